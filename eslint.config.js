// @ts-check
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "docs", "type-tests", "node_modules", ".tmp", "eslint.config.js"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Kernels index typed arrays in hot loops; `!` after a bounds-checked index is deliberate there.
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["test/**", "bench/**", "examples/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
);
