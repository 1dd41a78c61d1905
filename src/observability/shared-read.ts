// A read shared by everyone who asks within `freshMs` of it, and by everyone who asks while
// it is under way: however many scrapers arrive at once, the work is done once.
export function sharedRead<T>(freshMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { value: T; at: number } | undefined;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (last && performance.now() - last.at < freshMs) return Promise.resolve(last.value);
    inFlight ??= read()
      .then((value) => {
        last = { value, at: performance.now() };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
