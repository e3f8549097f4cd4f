// Checks the credentialStatus of a Concordat licence credential with
// @digitalbazaar/vc-bitstring-status-list: fetches each status list credential the credential
// points at (from the node that derived it from the ledger) and reads the credential's bit.
//
//   node tests/vc/check_status.mjs CREDENTIAL.json
//
// Prints one JSON line: {"verified": bool, "revocation": bool, "suspension": bool}.
// The status list credentials are unsigned (the ledger's bits; see docs/credentials.md), so
// their signature check is off; the issuers of credential and list must match.
import {readFileSync} from 'node:fs';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const credential = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const documentLoader = async url => {
  const response = await fetch(url);
  if(!response.ok) {
    throw new Error(`GET ${url}: ${response.status}`);
  }
  return {document: await response.json(), documentUrl: url};
};
const result = await checkStatus({
  credential,
  documentLoader,
  verifyBitstringStatusListCredential: false,
  verifyMatchingIssuers: true
});
const out = {verified: result.verified};
if(result.error) {
  out.error = String(result.error.message || result.error);
}
for(const r of result.results || []) {
  out[r.credentialStatus.statusPurpose] = r.status;
}
console.log(JSON.stringify(out));
process.exit(result.verified ? 0 : 1);
