import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // The dashboard (web/): browser code in .ts and .tsx (JSX is parsed by typescript-eslint).
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } },
    rules: {
      // User-supplied text is rendered as text, never as HTML.
      'no-restricted-syntax': ['error', { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'render text, not HTML' }],
      'no-restricted-properties': ['error', { property: 'innerHTML', message: 'render text, not HTML' }, { property: 'outerHTML', message: 'render text, not HTML' }],
    },
  },
);
