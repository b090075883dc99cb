// The TrueType fonts a PDF report embeds, so it reads the same in every viewer. DejaVu Sans covers
// Latin, Greek and Cyrillic; Debian's fonts-dejavu-core installs it (`npm run services -- up`).
import { readFileSync } from 'node:fs';

export const FONT_DIR = '/usr/share/fonts/truetype/dejavu';

export interface ReportFonts {
  regular: Buffer;
  bold: Buffer;
}

let loaded: ReportFonts | undefined;

/** Read once per process: a report renders in tens of milliseconds, a font read costs several. */
export function reportFonts(dir = FONT_DIR): ReportFonts {
  if (loaded && dir === FONT_DIR) return loaded;
  const read = (file: string) => {
    try {
      return readFileSync(`${dir}/${file}`);
    } catch (error) {
      throw new Error(
        `PDF reports embed ${file} from ${dir}, which cannot be read (${String(error)}); install the fonts-dejavu-core package (npm run services -- up does)`,
        { cause: error },
      );
    }
  };
  const fonts = { regular: read('DejaVuSans.ttf'), bold: read('DejaVuSans-Bold.ttf') };
  if (dir === FONT_DIR) loaded = fonts;
  return fonts;
}
