export { startTestbed } from './testbed.ts';
export type { Testbed, TestbedOptions, TestbedUrls } from './testbed.ts';
export { loadFixtureFile, parseFixture, validateFixture, FixtureError, DEFAULT_FIXTURE_PATH } from './fixtures/load.ts';
export type { Fixture, FixtureInput, FixtureClient, FixtureResource, FixtureUser, IssuerSettings } from './fixtures/schema.ts';
export type { Issuer } from './provider/create-issuer.ts';
export type { LogLevel } from './log.ts';
