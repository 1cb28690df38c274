// Preloaded with `node -r`: resolves localhost and every *.localhost name to 127.0.0.1, as browsers do
// (RFC 6761) but this machine's resolver does not. akismet-api puts the key in the host name
// (http://KEY.localhost:PORT/1.1/comment-check), so without this its requests never leave node.
const dns = require('dns');
const lookup = dns.lookup;

dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (typeof hostname === 'string' && (hostname === 'localhost' || hostname.endsWith('.localhost'))) {
    if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(callback, null, '127.0.0.1', 4);
  }
  return lookup.call(this, hostname, options, callback);
};
