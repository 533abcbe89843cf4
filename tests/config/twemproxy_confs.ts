/**
 * twemproxy's own example configurations, verbatim from its repository (twitter/twemproxy,
 * Apache License 2.0): `conf/nutcracker.yml`, `conf/nutcracker.root.yml` and
 * `conf/nutcracker.leaf.yml`, with the pool `omega` also as its README writes it.
 *
 * @module
 */

/** `conf/nutcracker.yml`: pools alpha and beta speak redis; gamma, delta and omega memcached. */
export const NUTCRACKER_YML = `alpha:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  distribution: ketama
  auto_eject_hosts: true
  redis: true
  server_retry_timeout: 2000
  server_failure_limit: 1
  servers:
   - 127.0.0.1:6379:1

beta:
  listen: 127.0.0.1:22122
  hash: fnv1a_64
  hash_tag: "{}"
  distribution: ketama
  auto_eject_hosts: false
  timeout: 400
  redis: true
  servers:
   - 127.0.0.1:6380:1 server1
   - 127.0.0.1:6381:1 server2
   - 127.0.0.1:6382:1 server3
   - 127.0.0.1:6383:1 server4

gamma:
  listen: 127.0.0.1:22123
  hash: fnv1a_64
  distribution: ketama
  timeout: 400
  backlog: 1024
  preconnect: true
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 3
  servers:
   - 127.0.0.1:11212:1
   - 127.0.0.1:11213:1

delta:
  listen: 127.0.0.1:22124
  hash: fnv1a_64
  distribution: ketama
  timeout: 100
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 1
  servers:
   - 127.0.0.1:11214:1
   - 127.0.0.1:11215:1
   - 127.0.0.1:11216:1
   - 127.0.0.1:11217:1
   - 127.0.0.1:11218:1
   - 127.0.0.1:11219:1
   - 127.0.0.1:11220:1
   - 127.0.0.1:11221:1
   - 127.0.0.1:11222:1
   - 127.0.0.1:11223:1

omega:
  listen: /tmp/gamma
  hash: hsieh
  distribution: ketama
  auto_eject_hosts: false
  servers:
   - 127.0.0.1:11214:100000
   - 127.0.0.1:11215:1
`;

/** The memcached pools of `conf/nutcracker.yml` (gamma, delta, omega), as they are there. */
export const NUTCRACKER_YML_MEMCACHED: string = NUTCRACKER_YML.slice(
  NUTCRACKER_YML.indexOf("gamma:"),
);

/** Pool beta of `conf/nutcracker.yml` with `redis: false`: named servers and a hash tag. */
export const BETA_AS_MEMCACHED: string = NUTCRACKER_YML.slice(
  NUTCRACKER_YML.indexOf("beta:"),
  NUTCRACKER_YML.indexOf("gamma:"),
).replace("redis: true", "redis: false");

/** Pool omega as twemproxy's README writes it: a unix socket with its mode. */
export const OMEGA_README_YML = `omega:
  listen: /tmp/gamma 0666
  hash: hsieh
  distribution: ketama
  auto_eject_hosts: false
  servers:
   - 127.0.0.1:11214:100000
   - 127.0.0.1:11215:1
`;

/** `conf/nutcracker.root.yml`. */
export const NUTCRACKER_ROOT_YML = `root:
  listen: 127.0.0.1:22120
  hash: fnv1a_64
  distribution: ketama
  preconnect: true
  auto_eject_hosts: false
  servers:
   - 127.0.0.1:22121:1
`;

/** `conf/nutcracker.leaf.yml`. */
export const NUTCRACKER_LEAF_YML = `leaf:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  distribution: ketama
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 1
  servers:
   - 127.0.0.1:11212:1
   - 127.0.0.1:11213:1
`;
