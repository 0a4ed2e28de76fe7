// simple-oauth2 (npm), used as its README shows: ClientCredentials, getToken({scope}), then the
// token as a bearer to the resource server. Usage: node client.js EXCHANGE_URL CLIENT_ID SECRET
// SCOPE RESOURCE_URL; prints the resource server's status and body and the token's expires_in.
'use strict';
const { ClientCredentials } = require('simple-oauth2');

const [base, id, secret, scope, resource] = process.argv.slice(2);

async function main() {
  const client = new ClientCredentials({
    client: { id, secret },
    auth: { tokenHost: base, tokenPath: '/oauth2/token' },
  });
  const accessToken = await client.getToken({ scope });
  const r = await fetch(resource, {
    headers: { Authorization: `Bearer ${accessToken.token.access_token}` },
  });
  console.log(r.status, JSON.stringify(await r.json()), accessToken.token.expires_in);
}

main().catch((e) => {
  const payload = e.data && e.data.payload ? JSON.stringify(e.data.payload) : '';
  console.error(`simple-oauth2: ${e.message} ${payload}`);
  process.exit(1);
});
