// The titan-secrets policy pack: `pulumi preview --policy-pack policy`.
// See README.md beside this file for what each policy checks and how the
// pack learns secret ages.
import { PolicyPack } from "@pulumi/policy";
import { titanPolicies } from "./policies";

new PolicyPack("titan-secrets", { policies: titanPolicies() });
