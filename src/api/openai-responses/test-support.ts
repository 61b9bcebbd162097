// Test support: read a Responses API event stream the way a client does.
const OWN_ITEM_TYPES = new Set(['message', 'reasoning', 'function_call']);
const SUMMARY_PART_EVENTS = new Set([
  'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta',
  'response.reasoning_summary_text.done', 'response.reasoning_summary_part.done',
]);

/**
 * Event types in order, with runs of one delta type collapsed, built-in tool items
 * (web search and the like) left out, and reasoning summary parts after the first
 * left out (the canonical form joins a reasoning item's parts into one).
 */
export function eventSkeleton(events: any[]): string[] {
  const builtIn = new Set<number>();
  const out: string[] = [];
  for (const event of events) {
    if (event.type === 'response.output_item.added' && !OWN_ITEM_TYPES.has(event.item?.type)) builtIn.add(event.output_index);
    if (typeof event.output_index === 'number' && builtIn.has(event.output_index)) continue;
    if (SUMMARY_PART_EVENTS.has(event.type) && event.summary_index > 0) continue;
    if (event.type.endsWith('.delta') && out.at(-1) === event.type) continue;
    out.push(event.type);
  }
  return out;
}

export interface AssembledResponse {
  /** Accumulated output_text deltas. */
  text: string;
  /** Per reasoning item: its summary parts' texts joined by a blank line. */
  reasoning: string[];
  /** Per reasoning item: the encrypted_content of its finished item. */
  encrypted: (string | undefined)[];
  calls: { callId: string; name: string; arguments: string; doneArguments: string }[];
  /** The response of the terminal event (completed, incomplete or failed). */
  final: any;
  errors: any[];
}

export function assembleResponses(events: any[]): AssembledResponse {
  const out: AssembledResponse = { text: '', reasoning: [], encrypted: [], calls: [], final: undefined, errors: [] };
  const summaries = new Map<string, string[]>();
  const calls = new Map<string, AssembledResponse['calls'][number]>();
  for (const event of events) {
    switch (event.type) {
      case 'response.output_text.delta':
        out.text += event.delta;
        break;
      case 'response.reasoning_summary_text.delta': {
        const parts = summaries.get(event.item_id) ?? [];
        parts[event.summary_index] = (parts[event.summary_index] ?? '') + event.delta;
        summaries.set(event.item_id, parts);
        break;
      }
      case 'response.output_item.added':
        if (event.item.type === 'function_call') {
          const call = { callId: event.item.call_id, name: event.item.name, arguments: '', doneArguments: '' };
          calls.set(event.item.id, call);
          out.calls.push(call);
        }
        break;
      case 'response.function_call_arguments.delta':
        calls.get(event.item_id)!.arguments += event.delta;
        break;
      case 'response.function_call_arguments.done':
        calls.get(event.item_id)!.doneArguments = event.arguments;
        break;
      case 'response.output_item.done':
        if (event.item.type === 'reasoning') {
          out.reasoning.push((summaries.get(event.item.id) ?? []).join('\n\n'));
          out.encrypted.push(event.item.encrypted_content);
        }
        break;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        out.final = event.response;
        break;
      case 'error':
        out.errors.push(event.error ?? event);
        break;
    }
  }
  return out;
}
