// The map's geometry names countries by ISO 3166-1 numeric code ("276"), the API by alpha-2 ("DE").
// Only the package's code table is imported: its main entry would bring every locale's names along.
import codes from "i18n-iso-countries/codes.json";

// Each row is [alpha-2, alpha-3, numeric, ISO 3166-2 name].
const ALPHA2_BY_NUMERIC = new Map(codes.map(([alpha2, , numeric]) => [numeric, alpha2]));

/** The alpha-2 code of a numeric one (`"276"` → `"DE"`), "" when it has none. */
export function alpha2Of(numeric) {
  return ALPHA2_BY_NUMERIC.get(String(numeric ?? "").padStart(3, "0")) ?? "";
}
