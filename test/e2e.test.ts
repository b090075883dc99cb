// End to end on the embedded defaults: chDB, PGlite, in-process bus and live store.
import { e2eSuite } from './support/e2e-suite.ts';

e2eSuite(async () => ({}));
