import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "data/", "migrations/", "coverage/", "console/dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read settings through src/config.ts." }],
    },
  },
  {
    files: ["src/config.ts", "tests/**", "bench/**", "scripts/**", "webhooks/consumer/**", "*.config.ts"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // The admin console runs in the browser, as plain ES modules.
    files: ["console/**/*.js"],
    languageOptions: {
      globals: Object.fromEntries(
        ["window", "document", "location", "history", "sessionStorage", "fetch", "navigator", "confirm", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "CustomEvent", "Node", "Element", "URLSearchParams", "URL", "ResizeObserver", "DOMParser", "HashChangeEvent", "crypto"].map((name) => [name, "readonly"]),
      ),
    },
  },
);
