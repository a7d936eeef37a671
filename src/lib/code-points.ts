// The length of a string in Unicode code points, as the message bounds count it (zod 4 does too):
// an emoji is one, a lone surrogate is one.

/** Code points in `text`: UTF-16 units, less one for each surrogate pair. */
export function codePointLength(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/** Whether `text` has between `min` and `max` code points (units first: most strings are short). */
export function hasCodePointsBetween(text: string, min: number, max: number): boolean {
  // A code point is one or two units: fewer units than `min` never reach it, and `max` units or
  // fewer always fit under it.
  if (text.length < min) return false;
  if (text.length <= max && text.length >= min * 2) return true;
  const length = codePointLength(text);
  return length >= min && length <= max;
}
