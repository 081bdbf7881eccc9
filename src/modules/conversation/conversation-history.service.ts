import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
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
 * resumed), so any session of the chain finds the whole conversation. Every read goes through the
 * turns a page at a time and keeps at most a small summary per conversation and the messages it
 * answers with: never the history's text.
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

  /** The messages `offset` to `offset + limit` of the conversation `sessionId` belongs to (oldest first), and how many it has. */
  async page(sessionId: string, offset: number, limit: number): Promise<{ root: string; messages: ConversationMessage[]; total: number }> {
    let root: string | undefined;
    const messages: ConversationMessage[] = [];
    let total = 0;
    for await (const turn of this.turns(sessionId)) {
      root = turn.root;
      for (const message of toMessages(turn)) if (total++ >= offset && messages.length < limit) messages.push(message);
    }
    if (root === undefined) throw new EventError('not_found', `Conversation not found: ${sessionId} (no finished turn on any node returned this session or another of its chain)`);
    return { root, messages, total };
  }

  /** The `limit` conversations with the most messages containing `query` (case-insensitive), ties in the order they began; and how many match. */
  async search(query: string, limit: number): Promise<{ results: ConversationMatches[]; total: number }> {
    const needle = query.toLowerCase();
    const matching = (turn: Turn) => toMessages(turn).filter((message) => message.content.toLowerCase().includes(needle));
    // First each conversation's count and newest session; then the matches of those shown only, read again.
    const counts = new Map<string, { matches: number; session: string }>();
    for await (const turn of this.turns()) {
      const count = counts.get(turn.root);
      if (count) {
        count.matches += matching(turn).length;
        count.session = turn.session;
      } else counts.set(turn.root, { matches: matching(turn).length, session: turn.session });
    }
    const ranked = [...counts].filter(([, { matches }]) => matches > 0).sort(([, a], [, b]) => b.matches - a.matches);
    const results: ConversationMatches[] = [];
    for (const [root, { matches, session }] of ranked.slice(0, limit)) {
      const shown: ConversationMessage[] = [];
      for await (const turn of this.turns(root)) {
        shown.push(...matching(turn));
        if (shown.length >= MATCHES_SHOWN) break;
      }
      results.push({ session_id: session, root_session_id: root, matches: shown.slice(0, MATCHES_SHOWN), match_count: matches });
    }
    return { results, total: ranked.length };
  }

  /**
   * Written a page at a time, under a temporary name until complete: a read that fails midway leaves
   * no half file. The messages counted first are those written, should the conversation go on meanwhile.
   */
  async export(sessionId: string, format: 'markdown' | 'json'): Promise<ExportedConversation> {
    const { root, total } = await this.page(sessionId, 0, 0);
    const dir = path.join(this.config.varDir, 'state', 'exports');
    fs.mkdirSync(dir, { recursive: true });
    const exportedAt = new Date().toISOString();
    const file = path.join(dir, `conversation_${root}_${exportedAt.replace(/[:.]/g, '-')}.${format === 'json' ? 'json' : 'md'}`);
    const text = format === 'json' ? jsonExport(root, exportedAt, total) : markdownExport(root, exportedAt, total);
    // Its own: two exports of one conversation in the same millisecond would share the final name.
    const partial = `${file}.${randomBytes(4).toString('hex')}.part`;
    const fd = fs.openSync(partial, 'wx');
    let bytes = 0;
    const write = (chunk: string) => {
      fs.writeFileSync(fd, chunk);
      bytes += Buffer.byteLength(chunk);
    };
    try {
      try {
        write(text.head);
        let written = 0;
        for await (const turn of this.turns(sessionId)) {
          const messages = toMessages(turn).slice(0, total - written);
          write(messages.map((message, index) => text.message(message, written + index)).join(''));
          written += messages.length;
          if (written === total) break;
        }
        write(text.tail);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(partial, file);
    } catch (error) {
      fs.rmSync(partial, { force: true });
      throw error;
    }
    return { export_path: file, message_count: total, size_bytes: bytes };
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

/** An export in pieces: what comes before the messages, each message (the nth), what comes after. */
interface ExportText {
  head: string;
  message: (message: ConversationMessage, index: number) => string;
  tail: string;
}

/** What JSON.stringify({ session_id, exported_at, total_messages, messages }, null, 2) writes, a message at a time. */
function jsonExport(root: string, exportedAt: string, total: number): ExportText {
  const head = `{\n  "session_id": ${JSON.stringify(root)},\n  "exported_at": ${JSON.stringify(exportedAt)},\n  "total_messages": ${total},\n  "messages": [`;
  const indented = (message: ConversationMessage) => JSON.stringify(message, null, 2).replace(/\n/g, '\n    ');
  return { head, message: (message, index) => `${index === 0 ? '' : ','}\n    ${indented(message)}`, tail: total === 0 ? ']\n}' : '\n  ]\n}' };
}

function markdownExport(root: string, exportedAt: string, total: number): ExportText {
  return {
    head: `# Conversation ${root}\n\n${total} messages, exported ${exportedAt}\n`,
    message: (m) => `\n### ${m.timestamp} - ${m.sender}\n\n${m.content}\n\n---\n`,
    tail: '',
  };
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
