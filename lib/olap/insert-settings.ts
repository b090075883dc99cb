// Settings every insert runs with, on either engine.
export const INSERT_SETTINGS = {
  // Replacing and aggregating engines fold rows at merge time, and no read relies on it happening
  // at insert; skipping it roughly halves the cost of a large insert.
  optimize_on_insert: 0,
  // An app event's property that looks like a date stays the text it was sent as: product
  // analytics compares and groups by that text (schema/clickhouse/030's JSON column).
  input_format_try_infer_dates: 0,
  input_format_try_infer_datetimes: 0,
} as const;
