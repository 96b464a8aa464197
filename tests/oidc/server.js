// A local OpenID Connect provider for the sign-in browser test (tests/e2e/test_sign_in_oidc.py),
// built on node-oidc-provider (an OpenID Certified implementation). Not for production.
//
//   node tests/oidc/server.js   (configured by environment variables)
//
// OIDC_PORT           port to listen on (127.0.0.1); the issuer is http://127.0.0.1:PORT
// OIDC_CLIENT         JSON: {"client_id", "client_secret", "redirect_uri"} of the one client
// OIDC_ACCOUNTS       JSON: {"<login>": {"password": "...", "claims": {"email": ..., ...}}};
//                     a claim left out is not sent (an account without "email" has none)
//
// Prints "ready <issuer>" on stdout when it listens. Like the big providers, it puts the
// email claims in the ID token, accepts prompt=select_account (Streamlit sends it: while the
// provider's session lasts it offers "Continue as ..." without a password), asks for login and
// password in its own form, skips consent for the one first-party client, and ends its session
// on RP-initiated logout (Streamlit's st.logout goes there).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { interactionPolicy } from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const client = JSON.parse(process.env.OIDC_CLIENT);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);
const issuer = `http://127.0.0.1:${port}`;

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:24em;margin:3em auto}
label,input,button{display:block;margin:.4em 0;font-size:1em}input{width:100%}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;

// Streamlit sends prompt=select_account; a provider must accept it. The account chooser (or,
// without a session, the login form) resolves it together with the login.
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: [client.redirect_uri],
      post_logout_redirect_uris: [client.redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [{ ...jwk, kid: 'test', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Streamlit reads the person from the ID token only: put the scopes' claims there.
  conformIdTokenClaims: false,
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page(
          'Sign out',
          `${form}<p>Do you want to sign out of the test provider?</p>
           <button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`,
        );
      },
    },
  },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => {
    if (!Object.hasOwn(accounts, sub)) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...accounts[sub].claims }) };
  },
  // One first-party client: no consent screen, the grant covers what it asked for.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Sign-in error', `<pre>${escape(JSON.stringify(out, null, 2))}</pre>`);
  },
});

const loginForm = (uid, message = '') => page(
  'Test provider sign-in',
  `${message ? `<p role="alert">${escape(message)}</p>` : ''}
   <form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
     <label>Login <input name="login" autofocus></label>
     <label>Password <input name="password" type="password"></label>
     <button type="submit">Sign in</button>
   </form>`,
);

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const accountChooser = (uid, accountId) => page(
  'Choose an account',
  `<form method="post" action="/interaction/${escape(uid)}/continue">
     <button type="submit">Continue as ${escape(accountId)}</button>
   </form>
   <p><a href="/interaction/${escape(uid)}/login">Use another account</a></p>`,
);

// /interaction/UID: the login form, or (prompt=select_account while a session exists, as at
// Google or Microsoft) the account chooser that needs no password.
// /interaction/UID/login: GET the login form, POST it. /interaction/UID/continue: POST.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(?:\/(login|continue))?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const signedIn = details.session?.accountId;
  const finish = async (accountId) => {
    const result = { login: { accountId }, select_account: {} };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.respond = false;
  };
  ctx.type = 'html';
  if (ctx.method === 'GET') {
    const choose = !match[2] && signedIn && details.prompt.name === 'select_account';
    ctx.body = choose ? accountChooser(details.uid, signedIn) : loginForm(details.uid);
  } else if (ctx.method === 'POST' && match[2] === 'continue' && signedIn) {
    await finish(signedIn);
  } else if (ctx.method === 'POST' && match[2] === 'login') {
    const form = await formBody(ctx.req);
    const login = form.get('login') || '';
    const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
    if (account && account.password === form.get('password')) {
      await finish(login);
    } else {
      ctx.body = loginForm(details.uid, 'Wrong login or password.');
    }
  } else {
    ctx.status = 405;
  }
  return undefined;
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
