// Apart from direct-tokens.ts, which loads the engine's grants: the package's entry exports this class at import (issue 24).

/** An order the issuer would not fill: `field` names what to change (HTTP 400 `invalid_request`). */
export class DirectTokenError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'DirectTokenError';
    this.field = field;
  }
}
