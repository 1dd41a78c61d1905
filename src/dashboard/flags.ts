// What each quality flag means for the operator reading it, in plain words: what the
// figures can and cannot be trusted for, and where to look. The API's own message (with
// the numbers) is shown beside it.

const EXPLANATIONS: Record<string, string> = {
  efficiency_above_one:
    "More DC reached the battery than the meters drew as AC, which cannot happen: a meter is probably linked to the wrong vehicle, or one is missing or faulty.",
  dc_without_meter:
    "The vehicle charged, but no meter is linked to it, so the AC it drew and its efficiency are unknown. Link its charger's meter.",
  meter_shared: "A linked meter was linked to another vehicle at the same time, so its AC may be counted for both.",
  low_coverage:
    "Fewer readings arrived than one a minute: the vehicle was off, out of reach or reporting late, so the figures may be incomplete.",
  battery_overheat: "The battery was hotter than the safe limit at least once in this window.",
};

export const explainFlag = (code: string) => EXPLANATIONS[code] ?? "A figure of this window is doubtful.";
