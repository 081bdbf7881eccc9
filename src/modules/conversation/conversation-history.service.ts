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
  session: string;
  requestId: string;
  timestamp: string;
  prompt: string;
  result: string;
  sender: string;
}

/**
 * Conversations read back from the finished completions in the database, every node's: a node's
 * response logs hold only the turns it ran, and any node answers for the whole cluster. A
 * conversation is a session chain (a resume that returned another session links it to the one it
 * resumed), so any session of the chain finds the whole conversation.
 */
@Injectable()
export class ConversationHistory {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly bus: EventBus,
  ) {}

  async list(): Promise<ConversationSummary[]> {
    return [...(await this.chains())].map(([root, turns]) => summarise(root, turns));
  }

  /** The messages of the conversation `sessionId` belongs to, oldest first. */
  async messages(sessionId: string): Promise<{ root: string; messages: ConversationMessage[] }> {
    const [chain] = await this.chains(sessionId);
    if (!chain) throw new EventError('not_found', `Conversation not found: ${sessionId} (no finished turn on any node returned this session or another of its chain)`);
    const [root, turns] = chain;
    return { root, messages: turns.flatMap(toMessages) };
  }

  async search(query: string): Promise<ConversationMatches[]> {
    const needle = query.toLowerCase();
    return [...(await this.chains())]
      .map(([root, turns]) => {
        const matches = turns.flatMap(toMessages).filter((message) => message.content.toLowerCase().includes(needle));
        return { session_id: turns[turns.length - 1].session, root_session_id: root, matches: matches.slice(0, 10), match_count: matches.length };
      })
      .filter((result) => result.match_count > 0)
      .sort((a, b) => b.match_count - a.match_count);
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

  /** Turns by the first session of their chain, oldest first; with `sessionId`, only the chain it belongs to. */
  private async chains(sessionId?: string): Promise<Map<string, Turn[]>> {
    const { turns } = await this.bus.requestOne(completionFinishedTurns, sessionId === undefined ? {} : { session_id: sessionId });
    const chains = new Map<string, Turn[]>();
    for (const turn of turns) {
      const chain = chains.get(turn.root_session_id);
      if (chain) chain.push(toTurn(turn));
      else chains.set(turn.root_session_id, [toTurn(turn)]);
    }
    return chains;
  }
}

function toTurn({ session_id, result: { ksi, response } }: HandlerResult<typeof completionFinishedTurns>['turns'][number]): Turn {
  return {
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
