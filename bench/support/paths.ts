// Where benchmarks keep what outlives one run: prepared data directories and CPU profiles, under
// the git-ignored `.loupe/bench/` of the repository (never the product's own data directory).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_CACHE_DIR = join(REPO_ROOT, '.loupe', 'bench');
export const PROFILE_DIR = join(BENCH_CACHE_DIR, 'profiles');
