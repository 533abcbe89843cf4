/**
 * Key placements recorded from the real nutcracker 0.5.0 (Debian's `nutcracker 0.5.0+dfsg-2`,
 * glibc 2.36, x86-64): for each pool below, every key was set through nutcracker and then looked
 * up on each memcached server directly. Each placement string holds the index of the server that
 * held each key of {@link PLACEMENT_KEYS}, in base 36.
 *
 * @module
 */

/** Latin-1 keys: each UTF-16 code unit (all below 256) is one key byte. */
export const PLACEMENT_KEYS: readonly string[] = [
  "a",
  "ab",
  "abc",
  "abcd",
  "abcde",
  "abcdef",
  "abcdefg",
  "abcdefgh",
  "abcdefghi",
  "abcdefghij",
  "abcdefghijk",
  "abcdefghijkl",
  "abcdefghijklm",
  "user:1000",
  "user:{1000}:profile",
  "session:0123456789abcdef0123456789abcdef",
  "{}",
  "a{}{b}",
  "{tag}",
  "x}y{z}",
  "caf\xe9",
  "\xff",
  "\x80\x81\x82",
  "ab\xff",
  "abcdef\x90",
  "na\xefve-\xfcber-\xe5\xe4\xf6",
  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
  "k".repeat(250),
  ...Array.from({ length: 40 }, (_, i) => `key:${i * 7919}`),
];

/** A server of a recorded pool, as configured in nutcracker's YAML (`host:port:weight [name]`). */
export interface RecordedServer {
  /** The server's name for the continuum (its configured name, or `host:port`). */
  name: string;
  /** The server's configured weight. */
  weight: number;
}

/** The pool of most recordings: `127.0.0.1:31401:1` … `127.0.0.1:31404:5`, unnamed. */
export const FOUR_SERVERS: readonly RecordedServer[] = [1, 2, 3, 5].map((weight, i) => ({
  name: `127.0.0.1:${31401 + i}`,
  weight,
}));

/** Four named servers whose point strings exceed nutcracker's 272-byte limit (all but one). */
export const LONG_NAMED_SERVERS: readonly RecordedServer[] = [280, 4, 300, 272].map((
  length,
  i,
) => ({
  name: String.fromCharCode(97 + i).repeat(length),
  weight: 1 + (i % 2),
}));

/** 25 unnamed servers of weight 1, where C `float` rounding gives each 156 points, not 160. */
export const TWENTY_FIVE_SERVERS: readonly RecordedServer[] = Array.from(
  { length: 25 },
  (_, i) => ({ name: `127.0.0.1:${31401 + i}`, weight: 1 }),
);

/**
 * Placements with {@link FOUR_SERVERS}, by `"<hash>/<distribution>"`, and three more pools:
 * `fnv1a_64/ketama/hash_tag` (`hash_tag: "{}"`), `md5/ketama/long_names`
 * ({@link LONG_NAMED_SERVERS}) and `fnv1a_64/ketama/25_equal` ({@link TWENTY_FIVE_SERVERS}).
 */
export const NUTCRACKER_PLACEMENTS: Readonly<Record<string, string>> = Object.fromEntries([
  ["one_at_a_time/ketama", "31323222232013323322333213331122203103223313222023320303101333323232"],
  ["one_at_a_time/modula", "33011233310332321331331231322132303033032322331332301333031223233223"],
  ["md5/ketama", "32323312302333321210133331303333332301131331123201133033232131031331"],
  ["md5/modula", "33323021322113313323223132333313322302333133233332311300011133322313"],
  ["crc16/ketama", "33111332322221333323031133233300302332223323333203232333222330133022"],
  ["crc16/modula", "12331333232212033312202330331132113323332222032312322202332310213331"],
  ["crc32/ketama", "33333333333333333333333333333333333333333333333333333333333333333333"],
  ["crc32/modula", "01333212321130213212032003332132312023203003221323023112332111201233"],
  ["crc32a/ketama", "32032201333222332211213212313211310332320013113303213032310033131323"],
  ["crc32a/modula", "13330332222331321223331033323112333313211232222313323102031133333333"],
  ["fnv1_64/ketama", "33203122123230123332132210313330331323332111333130031111233331333321"],
  ["fnv1_64/modula", "33212333110323201333321023233133232332022223322101332233232223331233"],
  ["fnv1a_64/ketama", "33212331103313213322333333133112333123313303212133321323333112333133"],
  ["fnv1a_64/modula", "33033302333031333123132312103303233222132302301003332022321222222301"],
  ["fnv1_32/ketama", "23231333133332213123132323233312301330331232331311333333233131221213"],
  ["fnv1_32/modula", "33331313333330231302101332022332332330121322323233323313313233331303"],
  ["fnv1a_32/ketama", "33131121331300303133211112333331033012031332210021033132333231132331"],
  ["fnv1a_32/modula", "30223221221331132323202333323033131303313323322113133221332303232313"],
  ["hsieh/ketama", "33323213221022120332333321201233230110323123322232222333121031222132"],
  ["hsieh/modula", "22132333033313102301332021331213333023233333132322222202333323211333"],
  ["murmur/ketama", "23231333313023323223200301332312001312130212232321032213232221121333"],
  ["murmur/modula", "21333333333303033220323313231033333221333320203312033232202321202233"],
  ["jenkins/ketama", "32133133333101332233113333121022301213213313122323333233322333333031"],
  ["jenkins/modula", "33333322213232303331323333121133113313320120221013022231021332330323"],
  [
    "fnv1a_64/ketama/hash_tag",
    "33212331103313213323333333133112333123313303212133321323333112333133",
  ],
  ["md5/ketama/long_names", "11111111111111111111111111111112111111111111111311111111111111111131"],
  [
    "fnv1a_64/ketama/25_equal",
    "md2856j9108jofhfkk2din75n7gka98fc3kh23inmmf89lf9gmmgjj7dl0fdll3g3mcb",
  ],
]);
