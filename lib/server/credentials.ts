import { createHash, timingSafeEqual } from "../deps.ts";

/** One allowed user: digests of the name and of the password, never the password itself. */
interface Entry {
  user: Uint8Array;
  password: Uint8Array;
}

function digest(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

const encoder = new TextEncoder();

/**
 * The users allowed in, read from a file of `user:password` lines as memcached's `-Y` reads it:
 * the name ends at the first `:`, the password at the end of the line.
 *
 * A check hashes what the client sent and compares the digests with `timingSafeEqual`, against
 * every entry whatever matched before, so that its time says nothing about how much of a name
 * or password was right. Passwords are kept only as digests.
 *
 * @example
 * ```ts
 * import { Credentials } from "./credentials.ts";
 * const credentials = Credentials.parse("alice:s3cret\n", "auth.txt");
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * console.log(credentials.check(bytes("alice"), bytes("s3cret"))); // true
 * console.log(credentials.check(bytes("alice"), bytes("s3cre"))); // false
 * ```
 */
export class Credentials {
  readonly #entries: Entry[];

  private constructor(entries: Entry[]) {
    this.#entries = entries;
  }

  /**
   * Parses the text of an auth file. Empty lines are skipped.
   *
   * @param text The file's contents.
   * @param fileName Names the file in errors.
   * @throws {Error} naming the file and line (never its contents) when a line has no `:`, an
   *   empty name or password, or a space, which memcached clients use to separate the two.
   */
  static parse(text: string, fileName: string): Credentials {
    const entries: Entry[] = [];
    const lines = text.split("\n");
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n].replace(/\r$/, "");
      if (line === "") continue;
      const where = `${fileName}, line ${n + 1}`;
      const colon = line.indexOf(":");
      if (colon <= 0 || colon === line.length - 1) {
        throw new Error(`${where}: expected user:password, with neither part empty`);
      }
      if (line.includes(" ")) {
        throw new Error(
          `${where}: a space can never match: clients send "user password" split at spaces`,
        );
      }
      entries.push({
        user: digest(encoder.encode(line.slice(0, colon))),
        password: digest(encoder.encode(line.slice(colon + 1))),
      });
    }
    if (entries.length === 0) {
      throw new Error(`${fileName}: no users: add a line user:password`);
    }
    return new Credentials(entries);
  }

  /**
   * Reads and parses an auth file.
   *
   * @throws {Error} when the file cannot be read, saying why, or is malformed.
   */
  static load(path: string): Credentials {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
      throw new Error(`cannot read the auth file ${path}: ${reason}`);
    }
    return Credentials.parse(text, path);
  }

  /** True when `user` and `password` match an entry. Takes the same time whatever they are. */
  check = (user: Uint8Array, password: Uint8Array): boolean => {
    const u = digest(user);
    const p = digest(password);
    let matched = 0;
    for (const entry of this.#entries) {
      matched |= Number(timingSafeEqual(u, entry.user)) &
        Number(timingSafeEqual(p, entry.password));
    }
    return matched === 1;
  };
}
