/** memrelay's own version. */
export const VERSION = "0.1.0";

/**
 * What `version` answers: the memcached protocol level memrelay speaks, then its own version.
 * Clients read the leading `1.6` to decide which protocol features the server has.
 */
export const VERSION_REPLY = `1.6.0-memrelay-${VERSION}`;
