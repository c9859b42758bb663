/**
 * express-openid-connect's functions. Node's ESM loader finds only some names of this CommonJS
 * package (requiresAuth and the claim checks are spread into module.exports, which it cannot see),
 * so they are taken from its default export, the whole module.exports.
 */
import library from 'express-openid-connect';

export const { auth, requiresAuth, claimEquals, claimIncludes, claimCheck } = library;
