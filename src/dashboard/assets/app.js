// The dashboard's shell: who is signed in, the navigation their role allows, and the
// hash router (#/overview, #/diagnosis, #/requests, #/requests?from=…&to=…&model=…, #/requests/{id},
// #/keys, #/reviews, #/reviews/{id}, #/models). Signing in lands on the Overview.
import { api, useSession } from './api.js';
import { h, show } from './dom.js';
import { signInPage } from './signin.js';
import { requestsPage, requestDetailPage } from './requests.js';
import { keysPage } from './keys.js';
import { reviewsPage, reviewDetailPage } from './reviews.js';
import { modelsPage } from './models.js';
import { overviewPage } from './overview.js';
import { diagnosisPage } from './diagnosis.js';
import { routerPage } from './router.js';
import { deploymentsPage } from './deployments.js';

const RANK = { viewer: 1, reviewer: 2, admin: 3 };

/** Each page: its nav label, the least role that sees it, and how it renders. */
const PAGES = [
  { path: 'overview', label: 'Overview', role: 'viewer', render: overviewPage },
  { path: 'diagnosis', label: 'Diagnosis', role: 'viewer', render: diagnosisPage },
  { path: 'requests', label: 'Request log', role: 'viewer', render: requestsPage, detail: requestDetailPage },
  { path: 'keys', label: 'Keys & budgets', role: 'admin', render: keysPage },
  { path: 'reviews', label: 'Reviews', role: 'viewer', render: reviewsPage, detail: reviewDetailPage },
  { path: 'models', label: 'Models', role: 'viewer', render: modelsPage },
  { path: 'router', label: 'Router', role: 'viewer', render: routerPage },
  // Provider settings: an admin's.
  { path: 'deployments', label: 'Deployments', role: 'admin', render: deploymentsPage },
];

const state = { me: null };
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

function allowed(page) {
  return state.me && RANK[state.me.role] >= RANK[page.role];
}

function signedOut(message) {
  state.me = null;
  useSession('');
  show(nav);
  show(who);
  show(main, signInPage({ message, onSignedIn }));
}

function onSignedIn(me) {
  state.me = me;
  useSession(me.csrf_token, signedOut);
  show(who,
    h('span', { class: 'me', dataset: { role: me.role } }, `${me.name} · ${me.role}`),
    h('button', { type: 'button', class: 'secondary', id: 'sign-out', onclick: signOut }, 'Sign out'));
  if (!location.hash || location.hash === '#/' || location.hash === '#/signin') location.hash = '#/overview';
  else render();
}

async function signOut() {
  await api('DELETE', '/dashboard/session').catch(() => {});
  location.hash = '#/signin';
  signedOut('Signed out.');
}

function render() {
  if (!state.me) return;
  // The query after '?' carries a page's filters (the request log's: from, to, model, tier, …).
  const at = location.hash.indexOf('?');
  const [, name, id] = (at === -1 ? location.hash : location.hash.slice(0, at)).split('/');
  const query = new URLSearchParams(at === -1 ? '' : location.hash.slice(at + 1));
  const page = PAGES.find((p) => p.path === name && allowed(p));
  show(nav, PAGES.filter(allowed).map((p) => h('a', { href: `#/${p.path}`, class: p === page ? 'active' : '', dataset: { page: p.path } }, p.label)));
  if (!page) {
    show(main, h('section', {}, h('h1', {}, 'Not available'), h('p', {}, name === 'keys' ? 'Key management needs the admin role.' : name === 'deployments' ? 'Deployments are provider settings: they need the admin role.' : 'There is no such page.')));
    return;
  }
  // Each visit renders into its own element: a slow page left behind writes into a detached one.
  const root = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  show(main, root);
  const context = { me: state.me, main: root, query };
  const view = id && page.detail ? page.detail(context, decodeURIComponent(id)) : page.render(context);
  Promise.resolve(view).catch((error) => show(root, h('p', { class: 'notice error', role: 'alert' }, error.message)));
}

window.addEventListener('hashchange', render);

api('GET', '/dashboard/session').then(onSignedIn, () => signedOut());
