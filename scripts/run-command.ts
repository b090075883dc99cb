// How every command line ends: a configuration mistake is one clear line and exit code 2,
// anything else the full error and exit code 1.
import { ConfigError } from '../lib/config.ts';

export function runCommand(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  });
}
