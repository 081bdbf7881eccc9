import { Inject, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSafeId, type ConversationMatches, type ConversationMessage, type ConversationSummary, type ExportedConversation, type StandardResponse } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventError } from '../../events/event-error';

interface Turn {
  session: string;
  resumed: string | null;
  requestId: string;
  timestamp: string;
  prompt: string;
  result: string;
  sender: string;
}

/**
 * Conversations read back from the response logs the completion module writes (one line per turn,
 * under the session the turn returned). A conversation is a session chain: each turn names the
 * session it resumed (the same one when the CLI kept the id, another when it gave a new one), so
 * any session of the chain finds the whole conversation.
 */
@Injectable()
export class ConversationLogService {
  private cache?: { signature: string; turns: Map<string, Turn> };

  constructor(@Inject(KSI_CONFIG) private readonly config: KsiConfig) {}

  list(): ConversationSummary[] {
    return [...this.chains()].map(([root, turns]) => summarise(root, turns));
  }

  /** The messages of the conversation `sessionId` belongs to, oldest first. */
  messages(sessionId: string): { root: string; messages: ConversationMessage[] } {
    const root = this.rootOf(sessionId);
    const turns = this.chains().get(root);
    if (!turns) throw new EventError('not_found', `Conversation not found: ${sessionId}`);
    return { root, messages: turns.flatMap(toMessages) };
  }

  search(query: string): ConversationMatches[] {
    const needle = query.toLowerCase();
    return [...this.chains()]
      .map(([root, turns]) => {
        const matches = turns.flatMap(toMessages).filter((message) => message.content.toLowerCase().includes(needle));
        return { session_id: turns[turns.length - 1].session, root_session_id: root, matches: matches.slice(0, 10), match_count: matches.length };
      })
      .filter((result) => result.match_count > 0)
      .sort((a, b) => b.match_count - a.match_count);
  }

  export(sessionId: string, format: 'markdown' | 'json'): ExportedConversation {
    const { root, messages } = this.messages(sessionId);
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

  /** Follows each session to the one it resumed; a resume that kept its id is no step. */
  private rootOf(sessionId: string): string {
    const parents = this.parents();
    let current = sessionId;
    const seen = new Set<string>();
    while (parents.has(current) && !seen.has(current)) {
      seen.add(current);
      current = parents.get(current) as string;
    }
    return current;
  }

  private parents(): Map<string, string> {
    const parents = new Map<string, string>();
    for (const turn of this.turns().values()) if (turn.resumed !== null && turn.resumed !== turn.session) parents.set(turn.session, turn.resumed);
    return parents;
  }

  private chains(): Map<string, Turn[]> {
    const chains = new Map<string, Turn[]>();
    for (const turn of this.turns().values()) {
      const root = this.rootOf(turn.session);
      chains.set(root, [...(chains.get(root) ?? []), turn]);
    }
    for (const turns of chains.values()) turns.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    return chains;
  }

  /** Every turn in the logs by request id (a session that kept its id on resume has several), read again only when a log file changed. */
  private turns(): Map<string, Turn> {
    const dir = this.config.responseLogDir;
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => file.endsWith('.jsonl')) : [];
    const stats = files.map((file) => fs.statSync(path.join(dir, file)));
    const signature = `${files.length}:${Math.max(0, ...stats.map((stat) => stat.mtimeMs))}:${stats.reduce((sum, stat) => sum + stat.size, 0)}`;
    if (this.cache?.signature === signature) return this.cache.turns;
    const turns = new Map<string, Turn>();
    for (const file of files) {
      for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const { ksi, response } = JSON.parse(line) as StandardResponse;
          const session = response.session_id ?? path.basename(file, '.jsonl');
          const resumed = ksi.resumed_session_id ?? null;
          // Session ids name export files and are looked up by clients: a line with another kind is foreign.
          if (!isSafeId(session) || (resumed !== null && !isSafeId(resumed))) continue;
          turns.set(ksi.request_id, {
            session,
            resumed,
            requestId: ksi.request_id,
            timestamp: ksi.timestamp,
            prompt: ksi.prompt ?? '',
            result: typeof response.result === 'string' ? response.result : JSON.stringify(response.result ?? ''),
            sender: ksi.agent_id ?? ksi.client_id ?? 'operator',
          });
        } catch {
          // a torn or foreign line: skip it
        }
      }
    }
    this.cache = { signature, turns };
    return turns;
  }
}

function toMessages(turn: Turn): ConversationMessage[] {
  return [
    { timestamp: turn.timestamp, sender: turn.sender, content: turn.prompt, type: 'user', session_id: turn.session, request_id: turn.requestId },
    { timestamp: turn.timestamp, sender: 'Claude', content: turn.result, type: 'claude', session_id: turn.session, request_id: turn.requestId },
  ];
}

function summarise(root: string, turns: Turn[]): ConversationSummary {
  return {
    session_id: turns[turns.length - 1].session,
    root_session_id: root,
    message_count: turns.length * 2,
    first_timestamp: turns[0].timestamp,
    last_timestamp: turns[turns.length - 1].timestamp,
    participants: [...new Set([...turns.map((turn) => turn.sender), 'Claude'])],
  };
}
