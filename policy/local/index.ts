// The policy pack of the folder above, started by pulumi-analyzer-policy-titan-node.
import "..";
