// Exact decimal arithmetic for energies: values are carried as integers of thousandths of a
// kWh (the store's numeric(10,3) scale), so summing a million readings never drifts the way
// adding floats does, and a server total can be compared digit for digit.

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Rounds to `scale` decimals; the result prints as that short decimal in JSON. */
export function roundTo(value: number, scale: number): number {
  const factor = 10 ** scale;
  // + 0 turns -0 into 0, which JSON would print as 0 anyway but tests compare with toBe.
  return Math.round(value * factor) / factor + 0;
}

/** Thousandths of a value the tool itself rounded to 3 decimals. */
export function toThousandths(value: number): number {
  return Math.round(value * 1000);
}

/**
 * Thousandths of a number the server sent, read from its decimal digits (a JSON number
 * prints as its shortest exact decimal), or null when it is not a decimal with at most 3
 * significant decimals: a total with more digits is itself a finding, never rounded away.
 */
export function parseThousandths(value: unknown): number | null {
  if (typeof value !== "number" && typeof value !== "string") return null;
  const match = DECIMAL.exec(String(value));
  if (!match) return null;
  const [, sign, whole = "0", fraction = ""] = match;
  if (/[1-9]/.test(fraction.slice(3))) return null;
  const thousandths = Number(whole) * 1000 + Number(fraction.slice(0, 3).padEnd(3, "0"));
  if (!Number.isSafeInteger(thousandths)) return null;
  return sign === "-" ? -thousandths : thousandths;
}

/** The decimal text of a count of thousandths, e.g. 50500 -> "50.5", 3 -> "0.003". */
export function formatThousandths(thousandths: number): string {
  const sign = thousandths < 0 ? "-" : "";
  const magnitude = Math.abs(thousandths);
  const whole = Math.floor(magnitude / 1000);
  const fraction = String(magnitude % 1000)
    .padStart(3, "0")
    .replace(/0+$/, "");
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}
