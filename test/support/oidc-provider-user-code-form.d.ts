/**
 * oidc-provider's markup of the device flow's forms, which it hands to `userCodeInputSource` and
 * `userCodeConfirmSource`; the page tests render the pages around the real thing. The package has no
 * exports map and its version is pinned (~9.13).
 */
declare module 'oidc-provider/lib/helpers/user_code_form.js' {
  /** The code-entry form: hidden xsrf and a text `user_code` (prefilled with `code` when given). */
  export function input(action: string, csrfToken: string, code: string | undefined, charset: string): string;
  /** The confirmation form: hidden xsrf, `user_code` and `confirm=yes`. */
  export function confirm(action: string, csrfToken: string, code: string): string;
}
