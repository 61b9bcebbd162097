// Reviews: the queue (viewers read it) and one review — the request and the model's
// answer — with approve / edit / reject for reviewers and admins.
import { api } from './api.js';
import { h, show, table, notice } from './dom.js';
import { usd, time } from './format.js';

const STATUSES = ['pending', 'approved', 'edited', 'rejected', 'expired'];
const view = { status: 'pending' };
const RANK = { viewer: 1, reviewer: 2, admin: 3 };

export async function reviewsPage({ main }) {
  const results = h('div', { id: 'review-queue' });
  const select = h('select', { name: 'status', id: 'review-status' }, STATUSES.map((s) => h('option', { value: s, selected: s === view.status }, s)));
  select.addEventListener('change', () => { view.status = select.value; load(results); });
  show(main, h('section', {}, h('h1', {}, 'Reviews'), h('label', { class: 'inline' }, 'Status ', select), results));
  await load(results);
}

async function load(results) {
  const page = await api('GET', `/admin/reviews?${new URLSearchParams({ status: view.status })}`);
  show(results, table([
    { label: 'Review', field: 'id', cell: (r) => h('a', { href: `#/reviews/${encodeURIComponent(r.id)}` }, r.id) },
    { label: 'Created', cell: (r) => time(r.created_at) },
    { label: 'Mode', cell: (r) => r.mode },
    { label: 'Rule', cell: (r) => r.rule },
    { label: 'Reason', cell: (r) => r.reason },
    { label: 'Key', cell: (r) => r.key_id },
    { label: 'Model', cell: (r) => r.model },
    { label: 'Expires', cell: (r) => time(r.expires_at) },
  ], page.data, { class: 'reviews', empty: `No ${view.status} reviews.`, rowAttrs: (r) => ({ dataset: { reviewId: r.id, requestId: r.request_id } }) }));
}

export async function reviewDetailPage({ main, me }, id) {
  const review = await api('GET', `/admin/reviews/${encodeURIComponent(id)}`);
  const status = h('p', { class: 'notice hidden', role: 'status', id: 'decision-status' });
  const canDecide = RANK[me.role] >= RANK.reviewer && review.status === 'pending';
  show(main, h('section', { id: 'review-detail' },
    h('p', {}, h('a', { href: '#/reviews' }, '← Reviews')),
    h('h1', {}, 'Review ', h('code', {}, review.id)),
    h('p', {}, h('span', { class: 'pill', dataset: { field: 'status' } }, review.status), ` ${review.mode} · rule ${review.rule} · ${review.reason}`),
    h('p', { class: 'muted' }, `Request ${review.request_id} · key ${review.key_id} · ${review.model} · ${review.endpoint} · cost ${usd(review.cost_usd)} · expires ${time(review.expires_at)}`),
    h('div', { class: 'grid2' },
      h('div', { class: 'card' }, h('h2', {}, 'Request'), h('pre', { class: 'body', id: 'review-request' }, JSON.stringify(review.request, null, 2))),
      h('div', { class: 'card' }, h('h2', {}, 'Answer'), h('pre', { class: 'body', id: 'review-answer' }, review.answer_text || '(no text)'),
        review.tool_calls.length ? h('div', {}, h('h3', {}, 'Tool calls'), review.tool_calls.map((c) => h('pre', { class: 'body' }, `${c.name}(${c.arguments})`))) : null)),
    review.decision
      ? h('div', { class: 'card' }, h('h2', {}, 'Decision'), h('p', {}, `${review.decision.status} by ${review.decision.decided_by} at ${time(review.decision.decided_at)}${review.decision.reason ? ` — ${review.decision.reason}` : ''}`),
        review.decision.after_text !== null && review.decision.after_text !== review.decision.before_text ? h('pre', { class: 'body' }, review.decision.after_text) : null)
      : null,
    canDecide ? decisionPanel(review, status) : review.status === 'pending' ? h('p', { class: 'muted' }, 'Deciding needs the reviewer or admin role.') : null,
    status));
}

function decisionPanel(review, status) {
  const reason = h('input', { id: 'decision-reason', name: 'reason', maxlength: 2000, placeholder: 'why (required to reject)' });
  const edit = h('textarea', { id: 'edit-text', rows: 6 }, review.answer_text);
  const decide = async (action, body) => {
    try {
      const decided = await api('POST', `/admin/reviews/${encodeURIComponent(review.id)}/${action}`, body);
      notice(status, `Review ${decided.status}.`, 'ok');
      for (const button of document.querySelectorAll('.decision button')) button.disabled = true;
    } catch (error) {
      notice(status, error.message, 'error');
    }
  };
  const withReason = (body) => (reason.value.trim() ? { ...body, reason: reason.value.trim() } : body);
  return h('div', { class: 'card decision' },
    h('h2', {}, 'Decide'),
    h('label', {}, 'Reason', reason),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'approve', onclick: () => decide('approve', withReason({})) }, 'Approve'),
      h('button', { type: 'button', id: 'reject', class: 'danger', onclick: () => {
        if (!reason.value.trim()) return notice(status, 'A rejection needs a reason: the client gets it in its error.', 'error');
        decide('reject', withReason({}));
      } }, 'Reject')),
    h('label', {}, 'Edited answer', edit),
    h('button', { type: 'button', id: 'send-edit', class: 'secondary', onclick: () => decide('edit', withReason({ text: edit.value })) }, 'Send edited answer'));
}
