// A fake OpenAI-compatible chat-completions server for the browser test: it
// answers `POST …/chat/completions` after a delay (the model's latency, so a
// thought takes seconds) with a valid result object for the agent the
// request is for, and records every request.

import { once } from 'node:events';
import http from 'node:http';

/** Results a plausible model would give, one per agent, in the contract's shape. */
export function agentResult(agent) {
  const friday = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
  switch (agent) {
    case 'classify':
      return { category: 'task', confidence: 0.91, scores: { task: 0.91, idea: 0.05, note: 0.04 },
               signals: ['imperative verb "call"', 'deadline "before Friday"'] };
    case 'analyse':
      return { keywords: [{ term: 'dentist', score: 0.92 }, { term: 'appointment', score: 0.81 }, { term: 'friday', score: 0.64 }],
               sentiment: { score: -0.25, label: 'negative' },
               entities: [{ text: 'dentist', type: 'person' }],
               dates: [{ text: 'Friday', date: friday }], numbers: [], words: 14, sentences: 1 };
    case 'value':
      return { importance: 0.7, urgency: 0.8, actionability: 0.9, score: 0.8, priority: 'high',
               reasons: ['has a deadline', 'a concrete action'] };
    case 'plan':
      return { actions: [{ text: 'Call the dentist to move the appointment', due: friday, due_text: 'before Friday', priority: 'high' }],
               next_step: 'Call the dentist' };
    case 'summarise':
      return { title: 'Move the dentist appointment', summary: 'Call the dentist before Friday to move the appointment.',
               category: 'task', priority: 'high', action_count: 1 };
    default:
      return {};
  }
}

const AGENT_WORDS = [
  ['classify', /\bclassif(y|ier|ication)\b/],
  ['analyse', /\banaly[sz](e|is|er)\b/],
  ['value', /\bvalu(e|ation|er)\b/],
  ['plan', /\bplan(ner|ning)?\b/],
  ['summarise', /\bsummar(ise|ize|y|iser|izer)\b/],
];

/** The agent a word stands for ("summarizer" → "summarise"), or null. */
function agentNamed(word) {
  const w = String(word ?? '').toLowerCase();
  for (const [agent, re] of AGENT_WORDS) if (re.test(w)) return agent;
  return null;
}

/**
 * The agent a request is for. The node's system prompt names it; a prompt
 * may also list the whole pipeline, so explicit forms win ("you are the
 * value agent", "agent: plan", a field of the body), then the first agent
 * word of the system prompt, then of the whole conversation.
 */
export function agentOf(body) {
  for (const v of [body?.agent, body?.metadata?.agent, body?.user]) {
    const a = agentNamed(v);
    if (a) return a;
  }
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  const text = (m) => (typeof m.content === 'string' ? m.content
    : Array.isArray(m.content) ? m.content.map((c) => c?.text ?? '').join(' ') : '');
  const system = messages.filter((m) => m.role === 'system').map(text).join('\n').toLowerCase();
  const all = messages.map(text).join('\n').toLowerCase();
  const explicit = [
    /\b(?:you are|you're|act as|role:)\s+(?:the|a|an)?\s*"?([a-z]+)/g,
    /\bagent\s*[:=]\s*"?([a-z]+)/g,
    /\b([a-z]+)\s+agent\b/g,
  ];
  for (const source of [system, all]) {
    for (const re of explicit) {
      for (const m of source.matchAll(re)) {
        const a = agentNamed(m[1]);
        if (a) return a;
      }
    }
    let best = null;
    for (const [agent, re] of AGENT_WORDS) {
      const m = re.exec(source);
      if (m && (best === null || m.index < best.index)) best = { agent, index: m.index };
    }
    if (best) return best.agent;
  }
  return null;
}

export async function startChatServer(delayMs) {
  const state = { requests: [], holds: [] };
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON' } }));
      return;
    }
    const agent = agentOf(body);
    const system = (body.messages ?? []).find((m) => m.role === 'system');
    const entry = { agent, at: Date.now(), answered: false,
                    system: typeof system?.content === 'string' ? system.content.slice(0, 300) : null };
    state.requests.push(entry);
    // The model's latency: what makes a thought take seconds.
    setTimeout(() => {
      const content = JSON.stringify(agentResult(agent));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({
        id: `chatcmpl-${state.requests.length}`, object: 'chat.completion',
        created: Math.floor(Date.now() / 1000), model: body.model ?? 'fake',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
      }));
      entry.answered = true;
    }, delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, state, url: `http://127.0.0.1:${server.address().port}` };
}
