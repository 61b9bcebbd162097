// Personal data detectors: emails, phone numbers (libphonenumber-js, "max" metadata so a
// match must be a valid number for its region, not just the right length), card numbers
// (Luhn) and IBANs (ibantools checksum). Each starts with a cheap test that skips the text.
import { findPhoneNumbersInText, isSupportedCountry, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import type { Detector } from './finding.ts';
import { PRIORITY } from './finding.ts';

// Local part: letters and digits of any script (and lone surrogate halves of astral ones), ._%+-.
const LOCAL_PART_CHAR = /[\p{L}\p{N}\p{M}._%+\-\uD800-\uDFFF]/u;
/** Bounds the backward scan; longer local parts are far past RFC 5321's 64. */
const MAX_LOCAL_PART = 256;
const EMAIL_DOMAIN = /[\p{L}\p{N}\p{M}-]+(?:\.[\p{L}\p{N}\p{M}-]+)*\.\p{L}{2,}/uy;
const MIN_PHONE_DIGITS = 7;
// Dates (2024-03-15, 15/03/2024, 15.03.2024 12) are the commonest digit runs in prompts and logs.
const DATE_SHAPED = /^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})(?:[ T]\d{1,2})?$/;
// The libphonenumber-js finder costs ~0.6 ms per KB of text (and 20–60 µs per call), so it only
// sees runs of digits and phone punctuation (ASCII or full-width), optionally led by "+".
const PHONE_CANDIDATE =
  /[+\uFF0B]?[(\uFF08\d\uFF10-\uFF19][\d\uFF10-\uFF19 \t\u00A0\u3000().\/\-\u2010-\u2015\uFF08\uFF09\uFF0D\uFF0E]{5,}[\d\uFF10-\uFF19]/g;
// 13–19 digits, optionally grouped by single spaces or dashes, not inside a longer number.
// A card starts where a run of digit groups starts: not glued to letters, digits or '_' (a digit run
// inside an identifier, `chatcmpl-ab4111…`, is no card), nor after another group (`DE89 3704 …`).
const CARD_CANDIDATE = /(?<![\p{L}\d_]|\d[ .,-])\d(?:[ -]?\d){12,18}(?![\p{L}\d_]|[.,-]\d)/gu;
// Issuer prefixes: 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa), 5 (Mastercard),
// 6 (Discover, UnionPay, Maestro). Excludes 13-digit epoch-millisecond timestamps (1…).
const CARD_FIRST_DIGIT = /^[2-6]/;
// Country code, check digits, then up to 30 alphanumerics, optionally in groups of 1–4.
const IBAN_CANDIDATE = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}\b/g;
const IBAN_HINT = /[A-Z]{2}\d{2}/;

/** Start of the local part that ends just before `at`, or `at` when there is none. */
function localPartStart(text: string, at: number): number {
  let start = at;
  while (start > 0 && start > at - MAX_LOCAL_PART && LOCAL_PART_CHAR.test(text[start - 1])) start--;
  return start;
}

// A regex scan for emails tries a match at every letter; expanding around each "@" is ~10x cheaper.
export function createEmailDetector(): Detector {
  return (text, out) => {
    for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
      const start = localPartStart(text, at);
      if (start === at) continue;
      EMAIL_DOMAIN.lastIndex = at + 1;
      const domain = EMAIL_DOMAIN.exec(text);
      if (!domain) continue;
      const end = at + 1 + domain[0].length;
      out.push({ start, end, kind: 'email', priority: PRIORITY.email });
      at = end - 1;
    }
  };
}

function hasDigits(text: string, atLeast: number): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const isDigit = (code >= 48 && code <= 57) || (code >= 0xff10 && code <= 0xff19); // ASCII or full-width
    if (isDigit && ++digits >= atLeast) return true;
  }
  return false;
}

/** Where the digit groups of `written` end, counted in digits from its last digit. */
function groupEndsFromRight(written: string): number[] {
  const groups = written.match(/[\d\uFF10-\uFF19]+/g) ?? [];
  const ends: number[] = [];
  let remaining = groups.reduce((total, group) => total + group.length, 0);
  for (const group of groups.slice(0, -1)) {
    remaining -= group.length;
    ends.push(remaining);
  }
  return ends;
}

/**
 * libphonenumber-js offers only the POSSIBLE and VALID leniencies, and VALID takes an order
 * number like "2024-118734" for a US number. Numbers written without a country code must be
 * grouped as the region writes them: every break between digit groups inside the national
 * number falls where the national format has one (no breaks at all is fine too).
 */
function groupedLikeAPhone(written: string, number: PhoneNumber): boolean {
  if (/^\s*(?:\+|00)/.test(written)) return true;
  const breaks = groupEndsFromRight(written);
  if (breaks.length === 0) return true;
  const nationalLength = number.nationalNumber.length;
  const allowed = new Set(groupEndsFromRight(number.formatNational()));
  return breaks.every((end) => end >= nationalLength || allowed.has(end));
}

const BARE_DIGITS = /^[\d\uFF10-\uFF19]+$/;
const IDENTIFIER_BEFORE = /[\p{L}\p{N}=#_\/.-]/u;
const IDENTIFIER_AFTER = /[\p{L}\p{N}_\/-]/u;

/**
 * A bare run of digits (no "+", no separators) glued to an identifier — `order=A-2024118734`,
 * `#4155552671`, `id/4155552671x` — is an id, not a phone number, even when it is a valid one.
 */
function looksLikeAnIdentifier(text: string, start: number, candidate: string): boolean {
  if (!BARE_DIGITS.test(candidate)) return false;
  const before = text[start - 1];
  const after = text[start + candidate.length];
  return (before !== undefined && IDENTIFIER_BEFORE.test(before)) || (after !== undefined && IDENTIFIER_AFTER.test(after));
}

export function createPhoneDetector(defaultRegion: string | undefined): Detector {
  const region = defaultRegion?.toUpperCase();
  if (region !== undefined && !isSupportedCountry(region)) {
    throw new Error(`unknown phone region "${defaultRegion}" (expected an ISO 3166-1 alpha-2 code such as "US")`);
  }
  const options = region ? { defaultCountry: region as CountryCode } : {};
  return (text, out) => {
    if (!hasDigits(text, MIN_PHONE_DIGITS)) return;
    PHONE_CANDIDATE.lastIndex = 0;
    for (const candidate of text.matchAll(PHONE_CANDIDATE)) {
      if (!hasDigits(candidate[0], MIN_PHONE_DIGITS) || DATE_SHAPED.test(candidate[0])) continue;
      if (looksLikeAnIdentifier(text, candidate.index, candidate[0])) continue;
      // One character of context each side: the finder rejects numbers glued to letters.
      const from = Math.max(0, candidate.index - 1);
      const window = text.slice(from, candidate.index + candidate[0].length + 1);
      for (const found of findPhoneNumbersInText(window, options)) {
        if (!groupedLikeAPhone(window.slice(found.startsAt, found.endsAt), found.number)) continue;
        out.push({ start: from + found.startsAt, end: from + found.endsAt, kind: 'phone', priority: PRIORITY.phone });
      }
    }
  };
}

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Separators must be all spaces or all dashes: "4111 1111-1111 1111" is not written by anyone. */
function consistentSeparators(candidate: string): boolean {
  return !(candidate.includes(' ') && candidate.includes('-'));
}

export function createCardDetector(): Detector {
  return (text, out) => {
    if (!hasDigits(text, 13)) return;
    CARD_CANDIDATE.lastIndex = 0;
    for (const match of text.matchAll(CARD_CANDIDATE)) {
      const digits = match[0].replace(/[ -]/g, '');
      if (!CARD_FIRST_DIGIT.test(digits) || !consistentSeparators(match[0]) || !passesLuhn(digits)) continue;
      out.push({ start: match.index, end: match.index + match[0].length, kind: 'card', priority: PRIORITY.financial });
    }
  };
}

/** The longest prefix of the candidate's groups that is a valid IBAN (a greedy match may take a following word). */
function validIbanPrefix(candidate: string): string | undefined {
  const groups = candidate.split(' ');
  for (let count = groups.length; count >= 1; count--) {
    const prefix = groups.slice(0, count).join(' ');
    const electronic = electronicFormatIBAN(prefix);
    if (electronic && isValidIBAN(electronic)) return prefix;
  }
  return undefined;
}

export function createIbanDetector(): Detector {
  return (text, out) => {
    if (!IBAN_HINT.test(text)) return;
    IBAN_CANDIDATE.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = IBAN_CANDIDATE.exec(text)) !== null) {
      const iban = validIbanPrefix(match[0]);
      if (!iban) {
        IBAN_CANDIDATE.lastIndex = match.index + 4; // a valid IBAN may start inside a failed candidate
        continue;
      }
      out.push({ start: match.index, end: match.index + iban.length, kind: 'iban', priority: PRIORITY.financial });
      // The greedy candidate may have run into the next IBAN: look again right after this one.
      IBAN_CANDIDATE.lastIndex = match.index + iban.length;
    }
  };
}

export function createPiiDetectors(defaultRegion: string | undefined): Detector[] {
  return [createEmailDetector(), createPhoneDetector(defaultRegion), createCardDetector(), createIbanDetector()];
}
