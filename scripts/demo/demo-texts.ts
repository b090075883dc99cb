// Words for the demo: post captions, comments and mentions of known sentiment, commenter handles.
// Sentiment phrases use plain, unambiguous words so a lexicon scorer labels them as intended.
import type { Brand, SocialPlatform } from './demo-accounts.ts';
import { chance, intBetween, pick, pickWeighted, type Rng } from './demo-random.ts';

export type Sentiment = 'positive' | 'neutral' | 'negative';

const GENERIC_PRODUCTS = [
  'oat milk latte',
  'cold brew',
  'flat white',
  'cortado',
  'matcha latte',
  'caramel macchiato',
  'espresso tonic',
  'chai latte',
  'blueberry muffin',
  'breakfast sandwich',
];

const ORIGINS = ['Ethiopian', 'Colombian', 'Guatemalan', 'Kenyan', 'Sumatran', 'Brazilian'];
const BARISTAS = ['Ana', 'Marcus', 'Jess', 'Tomás', 'Priya', 'Dev', 'Olivia', 'Sam'];
const HASHTAGS = [
  '#coffee',
  '#coffeetime',
  '#latte',
  '#coldbrew',
  '#oatmilk',
  '#baristalife',
  '#morningfuel',
  '#coffeelover',
  '#espresso',
];

const CAPTIONS: readonly string[] = [
  'New on the menu: the {product}. At every {brand} from today ☕',
  'Monday fuel: a {product} and a quiet corner. Who is in?',
  "Our baristas' pick this week: the {product}.",
  'Double rewards on every {product} until Sunday. Order ahead in the app.',
  'Behind the bar: how we pull the shot for the {product}.',
  'Rainy day, warm cup. The {product} is back for the season.',
  'Meet {barista}, {years} years behind our bar and still making the best {product} in town.',
  'Tag the friend who owes you a {product} 👇',
  'Fresh {origin} beans just landed. Roasting them for the {product} this week.',
  'Quick poll: {product} or {product2}?',
  'The {product}, made slow. Ten minutes of your morning, well spent.',
  'Open early tomorrow in {city} for the marathon crowd. {product} on us for runners.',
];

const LINK_CAPTIONS: readonly string[] = [
  'Skip the line: order your {product} ahead, link below.',
  'Our {origin} single origin is back in bags. Get yours online.',
  'We are hiring baristas in {city}. Apply here.',
  'Read how we source our {origin} beans, straight from the farm.',
];

const TIKTOK_CAPTIONS: readonly string[] = [
  'POV: your barista makes the {product} with extra foam 🫶',
  'Rating every drink on our menu, part {years}: the {product}',
  'How the {product} is made in 15 seconds',
  'Trying the {product} hack everyone keeps asking about',
];

const EDITS: readonly string[] = [
  ' (Edit: now at every location.)',
  ' Update: back in stock!',
  ' (Edit: fixed the link.)',
  ' Ends Sunday.',
];

const POSITIVE: readonly string[] = [
  'Love the {product}! Best part of my morning.',
  'This looks amazing 😍',
  'The {product} here is so good, honestly the best in town.',
  'Great service at the {city} store today, thank you!',
  'Perfect {product} every single time.',
  'Awesome, can not wait to try it!',
  'My favorite coffee spot, hands down.',
  'Delicious. The {product} made my day.',
  'Happy to see this back on the menu!',
  'Fantastic baristas at {city}, always friendly.',
];

const NEUTRAL: readonly string[] = [
  'What time does the {city} store open on Sundays?',
  'Is the {product} on the menu at every location?',
  'Which beans go into the {product}?',
  'Does the {city} store have outdoor seating?',
  'How many calories are in the {product}?',
  'Is this in stores now or only in the app?',
  'Going to try the {product} tomorrow morning.',
  'Do you sell the beans in bags?',
];

const NEGATIVE: readonly string[] = [
  'Waited 25 minutes for a lukewarm {product}. Disappointed.',
  'The {city} store got my order wrong again. Bad experience.',
  'Worst {product} I have had, tasted burnt.',
  'Prices keep going up and the cups keep getting smaller. Not happy.',
  'Rude staff at the {city} location this morning.',
  'Terrible service today, nobody even said hello.',
];

/** Complaints of the outage day: the app failing to take orders. */
const OUTAGE: readonly string[] = [
  'App crashed three times trying to order. Ridiculous.',
  'Your app charged me twice and the order never showed up. Not happy.',
  'Mobile order failed again, stood in line for 20 minutes. Terrible.',
  'Lost my rewards after the app update?? Really annoyed.',
  'Payment keeps failing in the app. Fix it please, this is awful.',
  'Ordered ahead, nothing was ready, app says error. Worst morning.',
];

const APOLOGY =
  "We know many of you could not place mobile orders this morning. We're sorry. The app is " +
  'working again and double rewards are on us all week. #{hashtag}';

const NAMES = ['maya', 'jon', 'priya', 'leo', 'sam', 'noor', 'alex', 'kai', 'zoe', 'omar'];
const MORE_NAMES = ['lucia', 'ben', 'hana', 'ravi', 'ella', 'tom', 'ivy', 'marco', 'aisha', 'finn'];
const SUFFIXES = ['.brews', '_runs', 'eats', '.jpg', '_daily', 'writes', '.codes', '_travels', ''];

export interface TextContext {
  brand: Brand;
  platform: SocialPlatform;
  /** Campaign hashtags the post carries on top of the usual ones. */
  campaignTags?: readonly string[];
}

function product(rng: Rng, brand: Brand): string {
  return chance(rng, 0.55) ? pick(rng, brand.products) : pick(rng, GENERIC_PRODUCTS);
}

function fill(rng: Rng, template: string, brand: Brand): string {
  return template
    .replaceAll('{product2}', product(rng, brand))
    .replaceAll('{product}', product(rng, brand))
    .replaceAll('{brand}', brand.name)
    .replaceAll('{city}', brand.homeCity)
    .replaceAll('{origin}', pick(rng, ORIGINS))
    .replaceAll('{barista}', pick(rng, BARISTAS))
    .replaceAll('{years}', String(intBetween(rng, 2, 9)))
    .replaceAll('{hashtag}', brand.hashtag);
}

function hashtags(rng: Rng, { brand, platform, campaignTags = [] }: TextContext): string {
  const tags = new Set<string>(campaignTags);
  if (chance(rng, 0.7)) tags.add(`#${brand.hashtag}`);
  const extra = intBetween(rng, platform === 'x' ? 0 : 1, platform === 'instagram' ? 4 : 2);
  for (let i = 0; i < extra; i++) tags.add(pick(rng, HASHTAGS));
  if (platform === 'tiktok') tags.add(pick(rng, ['#fyp', '#coffeetok', '#baristatok']));
  return [...tags].join(' ');
}

export function postCaption(rng: Rng, ctx: TextContext, link: boolean): string {
  const templates = link ? LINK_CAPTIONS : ctx.platform === 'tiktok' ? TIKTOK_CAPTIONS : CAPTIONS;
  const text = fill(rng, pick(rng, templates), ctx.brand);
  const tags = hashtags(rng, ctx);
  return tags ? `${text} ${tags}` : text;
}

export function editedCaption(rng: Rng, caption: string): string {
  return caption + pick(rng, EDITS);
}

export function apologyCaption(brand: Brand): string {
  return APOLOGY.replace('{hashtag}', brand.hashtag);
}

/** Comments are mostly kind; mentions carry more complaints; an outage turns both sour. */
export function sentimentOf(rng: Rng, kind: 'comment' | 'mention', outage: boolean): Sentiment {
  if (outage) return pickWeighted(rng, { negative: 0.75, neutral: 0.15, positive: 0.1 });
  return kind === 'comment'
    ? pickWeighted(rng, { positive: 0.62, neutral: 0.26, negative: 0.12 })
    : pickWeighted(rng, { positive: 0.5, neutral: 0.3, negative: 0.2 });
}

export function commentText(rng: Rng, brand: Brand, sentiment: Sentiment, outage: boolean): string {
  const bank =
    sentiment === 'positive'
      ? POSITIVE
      : sentiment === 'neutral'
        ? NEUTRAL
        : outage
          ? OUTAGE
          : NEGATIVE;
  return fill(rng, pick(rng, bank), brand);
}

/** A mention names the brand's handle somewhere in someone else's post. */
export function mentionText(rng: Rng, brand: Brand, sentiment: Sentiment, outage: boolean): string {
  const body = commentText(rng, brand, sentiment, outage);
  return chance(rng, 0.6) ? `@${brand.handle} ${body}` : `${body} @${brand.handle}`;
}

export function authorHandle(rng: Rng): string {
  const name = pick(rng, chance(rng, 0.5) ? NAMES : MORE_NAMES);
  const digits = chance(rng, 0.5) ? String(intBetween(rng, 1, 99)) : '';
  return `${name}${pick(rng, SUFFIXES)}${digits}`;
}
