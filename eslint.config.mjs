// Lint: typescript-eslint's recommended rules, plus the two that guard this
// project's promises: no floating promises (a lost Output apply can hide an
// error) and no console in the program itself (values reach users only
// through pulumi.log, and never a secret).
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/**", ".engine/**", "bin/**", "rendered/**", "tools/**", "coverage/**", ".cluster/**", "policy/node_modules/**"],
  },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests and their harness read untyped inputs (the mock monitor's
    // records, state exports, API server objects).
    files: ["test/**/*.ts", "harness/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["index.ts", "model/**/*.ts", "components/**/*.ts"],
    rules: { "no-console": "error" },
  },
  {
    // An Output in a template literal prints "Calling [toString] on an
    // [Output<T>] is not supported" instead of its value (and must never
    // carry a secret into a string anyway).
    files: ["index.ts", "components/**/*.ts"],
    plugins: { "@pulumi": pulumi },
    rules: { "@pulumi/no-output-in-template-literal": "error", "@pulumi/no-output-instance-in-template-literal": "error" },
  },
);
