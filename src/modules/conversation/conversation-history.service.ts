import { Inject, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  completionFinishedTurns,
  type ConversationMatches,
  type ConversationMessage,
  type ConversationSummary,
  type ExportedConversation,
  type HandlerResult,
} from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';

interface Turn {
  root: string;
  session: string;
  requestId: string;
  timestamp: string;
  prompt: string;
  result: string;
  sender: string;
}

/** Finished turns read per request: memory holds a page of them, never the whole history. */
const TURNS_PER_PAGE = 200;
/** The matches a search result shows per conversation (match_count still counts them all). */
const MATCHES_SHOWN = 10;

/**
 * Conversations read back from the finished completions in the database, every node's: a node's
 * response logs hold only the turns it ran, and any node answers for the whole cluster. A
 * conversation is a session chain (a resume that returned another session links it to the one it
 * resumed), so any session of the chain finds the whole conversation. Lists and searches go through
 * the turns a page at a time and keep only what they answer with.
 */
@Injectable()
export class ConversationHistory {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly bus: EventBus,
  ) {}

  async list(): Promise<ConversationSummary[]> {
    const summaries = new Map<string, ConversationSummary & { senders: Set<string> }>();
    for await (const { root, session, timestamp, sender } of this.turns()) {
      const summary = summaries.get(root);
      if (!summary) {
        summaries.set(root, { session_id: session, root_session_id: root, message_count: 2, first_timestamp: timestamp, last_timestamp: timestamp, participants: [], senders: new Set([sender]) });
        continue;
      }
      summary.session_id = session;
      summary.message_count += 2;
      summary.last_timestamp = timestamp;
      summary.senders.add(sender);
    }
    return [...summaries.values()].map(({ senders, ...summary }) => ({ ...summary, participants: [...new Set([...senders, 'Claude'])] }));
  }

  /** The messages of the conversation `sessionId` belongs to, oldest first. */
  async messages(sessionId: string): Promise<{ root: string; messages: ConversationMessage[] }> {
    let root: string | undefined;
    const messages: ConversationMessage[] = [];
    for await (const turn of this.turns(sessionId)) {
      root = turn.root;
      messages.push(...toMessages(turn));
    }
    if (root === undefined) throw new EventError('not_found', `Conversation not found: ${sessionId} (no finished turn on any node returned this session or another of its chain)`);
    return { root, messages };
  }

  async search(query: string): Promise<ConversationMatches[]> {
    const needle = query.toLowerCase();
    const found = new Map<string, ConversationMatches>();
    for await (const turn of this.turns()) {
      const matches = toMessages(turn).filter((message) => message.content.toLowerCase().includes(needle));
      const result = found.get(turn.root);
      if (result) result.session_id = turn.session;
      if (matches.length === 0) continue;
      if (!result) {
        found.set(turn.root, { session_id: turn.session, root_session_id: turn.root, matches: matches.slice(0, MATCHES_SHOWN), match_count: matches.length });
        continue;
      }
      result.matches.push(...matches.slice(0, MATCHES_SHOWN - result.matches.length));
      result.match_count += matches.length;
    }
    return [...found.values()].sort((a, b) => b.match_count - a.match_count);
  }

  async export(sessionId: string, format: 'markdown' | 'json'): Promise<ExportedConversation> {
    const { root, messages } = await this.messages(sessionId);
    const dir = path.join(this.config.varDir, 'state', 'exports');
    fs.mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(dir, `conversation_${root}_${stamp}.${format === 'json' ? 'json' : 'md'}`);
    const text =
      format === 'json'
        ? JSON.stringify({ session_id: root, exported_at: new Date().toISOString(), total_messages: messages.length, messages }, null, 2)
        : [`# Conversation ${root}`, '', `${messages.length} messages, exported ${new Date().toISOString()}`, '', ...messages.map((m) => `### ${m.timestamp} - ${m.sender}\n\n${m.content}\n\n---\n`)].join('\n');
    fs.writeFileSync(file, text);
    return { export_path: file, message_count: messages.length, size_bytes: Buffer.byteLength(text) };
  }

  /** Every finished turn in the order they finished, a page at a time; with `sessionId`, only those of the chain it belongs to. */
  private async *turns(sessionId?: string): AsyncGenerator<Turn> {
    let after: HandlerResult<typeof completionFinishedTurns>['next'];
    do {
      const page = await this.bus.requestOne(completionFinishedTurns, { ...(sessionId !== undefined && { session_id: sessionId }), ...(after && { after }), limit: TURNS_PER_PAGE });
      yield* page.turns.map(toTurn);
      after = page.next;
    } while (after);
  }
}

function toTurn({ root_session_id, session_id, result: { ksi, response } }: HandlerResult<typeof completionFinishedTurns>['turns'][number]): Turn {
  return {
    root: root_session_id,
    session: session_id,
    requestId: ksi.request_id,
    timestamp: ksi.timestamp,
    prompt: ksi.prompt,
    result: response.result ?? '',
    sender: ksi.agent_id ?? ksi.client_id ?? 'operator',
  };
}

function toMessages(turn: Turn): ConversationMessage[] {
  return [
    { timestamp: turn.timestamp, sender: turn.sender, content: turn.prompt, type: 'user', session_id: turn.session, request_id: turn.requestId },
    { timestamp: turn.timestamp, sender: 'Claude', content: turn.result, type: 'claude', session_id: turn.session, request_id: turn.requestId },
  ];
}
