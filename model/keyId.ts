// The key ID charset, shared by the program (model/schema.ts) and the
// consumer library (consumer/): a key ID travels as an HTTP header value
// (x-titan-key-id), an environment variable, a log field and a file name, so
// it holds only what is safe in all four: ASCII letters, digits, '.', '_'
// and '-', starting with a letter or digit (never "." or ".."), at most 63
// characters. No spaces, no control characters, no '/'.
// No import here: the consumer library must not pull in zod or Pulumi.

export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** KEY_ID in words, for error messages. */
export const KEY_ID_RULE =
    "a key ID of 1 to 63 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces or control characters: it is sent as an HTTP header value and used as a file name)";
