// Password rules from OWASP ASVS L2 (v4 §2.1): at least 12 characters, at most
// 128, any characters allowed (no composition rules), and not a common or
// breached password. "Common" also catches the usual dressing-up of one:
// "Password1234!" or "dr4gon2024" are refused like "password" and "dragon".

import list from "./common-passwords.txt" with { type: "text" };

export const MIN_LENGTH = 12;
export const MAX_LENGTH = 128;

const COMMON = new Set(
  list
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.toLowerCase()),
);

const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s", "!": "i" };

/** The reason a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, context: { username?: string; email?: string | null } = {}): string | undefined {
  const chars = [...password].length;
  if (chars < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters`;
  if (chars > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (new Set(lower).size <= 2) return "is too repetitive";
  if (isCommon(lower)) return "is too common; choose a longer phrase of unrelated words";
  const names = [context.username, context.email?.split("@")[0]].filter((n): n is string => !!n && n.length >= 4).map((n) => n.toLowerCase());
  if (names.some((n) => lower.includes(n))) return "must not contain your username or email";
  return undefined;
}

function isCommon(lower: string): boolean {
  if (COMMON.has(lower)) return true;
  // Strip what people add around a common word: digits and symbols at either end, leetspeak inside.
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/g, "");
  if (core.length < 4) return isSequence(lower);
  const plain = [...core].map((c) => LEET[c] ?? c).join("");
  if (COMMON.has(core) || COMMON.has(plain) || isSequence(lower)) return true;
  // One common word said twice is still that word: "dragon2024dragon", "monkeymonkey1", "abc123abc123".
  const unit = repeatedUnit(lower) ?? repeatedUnit(core);
  if (unit && unit.length >= 3 && isCommon(unit)) return true;
  const words = lower.split(/[^a-z]+/).filter(Boolean);
  return words.length >= 2 && words.every((w) => w === words[0]) && isCommon(words[0]!);
}

/** The shortest piece that s is two or more copies of, if any. */
function repeatedUnit(s: string): string | undefined {
  for (let n = 1; n <= s.length / 2; n++) {
    if (s.length % n === 0 && s.slice(0, n).repeat(s.length / n) === s) return s.slice(0, n);
  }
  return undefined;
}

/** 1234567890…, qwertyuiop…, abcdefgh… and their reverses. */
function isSequence(s: string): boolean {
  const rows = ["0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
  return rows.some((r) => {
    const twice = r + r;
    return twice.includes(s) || [...twice].reverse().join("").includes(s);
  });
}
