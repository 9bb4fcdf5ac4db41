import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { inWorkspace } from '../../db/tenant-transaction';
import type { ApiKeyService } from '../api-keys/api-key.service';
import type { AuthService } from '../auth/auth.service';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import type { PipelineService } from '../pipelines/pipeline.service';
import { actorOf, scopesOfRole, SYSTEM_ACTOR } from '../../kernel/viewer';
import { loadMavenDemo, type MavenSummary } from './maven-demo';
import { Role, ApiScope } from '../../kernel/roles';

export interface DemoCredentials {
  workspaceId: string;
  email: string;
  password: string;
  apiKey: string;
  summary?: MavenSummary;
}

const FILE = 'demo-credentials.json';

/** The demo credentials written when the demo workspace was created (embedded mode only). */
export function readDemoCredentials(dataDir: string): DemoCredentials | null {
  const file = join(dataDir, FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials) : null;
}

/**
 * Creates the demo workspace through the same services the API uses (so every write has its event),
 * fills it with the Maven CRM sample, and keeps its credentials in the data folder so that later
 * starts can print them again.
 */
/** The services the demo is made through. */
interface DemoServices {
  auth: AuthService;
  apiKeys: ApiKeyService;
  pipelines: PipelineService;
  customFields: CustomFieldService;
}

export async function createDemoWorkspace(ds: DataSource, services: DemoServices, dataDir: string): Promise<DemoCredentials> {
  const email = 'admin@demo.trellis.dev';
  const password = randomBytes(9).toString('base64url');
  const signedUp = await services.auth.createWorkspace({ workspaceName: 'Demo Company', name: 'Demo Admin', email, password });
  const workspaceId = signedUp.workspace.id;
  const viewer = {
    kind: 'USER' as const,
    workspaceId,
    userId: signedUp.user.id,
    apiKeyId: null,
    role: Role.ADMIN,
    teamId: null,
    scopes: scopesOfRole(Role.ADMIN),
  };
  const apiKey = await inWorkspace(ds, workspaceId, async (tx) => {
    const created = await services.apiKeys.create({ tx, viewer, actor: actorOf(viewer) }, { name: 'Demo key', scopes: [ApiScope.READ, ApiScope.WRITE] });
    return created.secret;
  });
  const summary = await inWorkspace(ds, workspaceId, (tx) => loadMavenDemo({ tx, viewer, actor: SYSTEM_ACTOR }, services));
  const creds = { workspaceId, email, password, apiKey, summary };
  writeFileSync(join(dataDir, FILE), JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return creds;
}
