// Kubernetes' own rules for the names and labels the config becomes
// (k8s.io/apimachinery/pkg/util/validation), checked at config time so that a
// name the API server would refuse stops the up before any resource.

/** RFC 1123 label: a namespace, a container, a label value built from a name. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;
/** RFC 1123 subdomain: the metadata.name of most objects (a Secret, a Job). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS_SUBDOMAIN_MAX = 253;

/**
 * A StatefulSet's controller labels each pod and ControllerRevision with
 * `controller-revision-hash: <name>-<hash>`, the hash being a 32-bit FNV hash
 * printed in decimal and safe-encoded (at most 10 characters): a label value
 * holds 63, so the name may hold 63 - 1 - 10 = 52 (pkg/controller/history,
 * ControllerRevisionName and HashControllerRevision). The API server accepts
 * a longer name; its pods then fail to be created (kubernetes/kubernetes#64023).
 */
export const STATEFULSET_NAME_MAX = DNS_LABEL_MAX - 1 - 10;

/**
 * A key of a Secret's data (IsConfigMapKey): at most 253 characters. The HMAC
 * key ring's keys are the delivered variables, `<envPrefix>_SECRET_SECONDARY`
 * the longest (17 characters after the prefix).
 */
export const DATA_KEY_MAX = DNS_SUBDOMAIN_MAX;

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export const LABEL_KEY_RULE =
    "a label key: an optional DNS subdomain prefix (at most 253 characters) and '/', then a name of at most 63 letters, digits, '-', '_' or '.' that starts and ends with a letter or digit";
export const LABEL_VALUE_RULE =
    "a label value: empty, or at most 63 letters, digits, '-', '_' or '.' that starts and ends with a letter or digit";

/** Whether `key` is a valid label (or annotation) key. */
export function isLabelKey(key: string): boolean {
    const slash = key.indexOf("/");
    const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
    if (prefix !== undefined && (prefix.length === 0 || prefix.length > DNS_SUBDOMAIN_MAX || !DNS_SUBDOMAIN.test(prefix))) return false;
    return name.length <= DNS_LABEL_MAX && LABEL_NAME.test(name);
}

/** Whether `value` is a valid label value. */
export function isLabelValue(value: string): boolean {
    return value === "" || (value.length <= DNS_LABEL_MAX && LABEL_NAME.test(value));
}

/** Why `name` is not a valid object name under `max` (a label's 63 or a subdomain's 253), or undefined when it is. */
export function nameProblem(name: string, max: number): string | undefined {
    const valid = max <= DNS_LABEL_MAX ? DNS_LABEL.test(name) : DNS_SUBDOMAIN.test(name);
    if (!valid) return "not an RFC 1123 name (lower-case letters, digits and '-')";
    if (name.length > max) return `${name.length} characters, over Kubernetes' ${max}`;
    return undefined;
}
