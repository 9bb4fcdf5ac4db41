import type { DataSource } from 'typeorm';
import type { Config } from '../kernel/config';
import { deprioritizeSlowTransactions, LOW_PRIORITY_NICE } from '../db/backend-priority';
import { limitConnectionsPerWorkspace } from '../db/workspace-gate';
import { createLogger, type Logger } from '../kernel/logger';
import { AccountResolver } from '../modules/accounts/account.resolver';
import { AccountService } from '../modules/accounts/account.service';
import { ActivityResolver } from '../modules/activities/activity.resolver';
import { ActivityService } from '../modules/activities/activity.service';
import { ApiKeyResolver } from '../modules/api-keys/api-key.resolver';
import { ApiKeyService } from '../modules/api-keys/api-key.service';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { ApiKeyCache } from '../modules/auth/api-key-cache';
import { AuthService } from '../modules/auth/auth.service';
import { ContactResolver } from '../modules/contacts/contact.resolver';
import { ContactService } from '../modules/contacts/contact.service';
import { ChangeFeedResolver } from '../modules/events/change-feed.resolver';
import { ChangeFeedService } from '../modules/events/change-feed.service';
import { CustomFieldResolver } from '../modules/custom-fields/custom-field.resolver';
import { CustomFieldService } from '../modules/custom-fields/custom-field.service';
import { DuplicateResolver } from '../modules/duplicates/duplicate.resolver';
import { DuplicateService } from '../modules/duplicates/duplicate.service';
import { IdempotencyService } from '../modules/idempotency/idempotency.service';
import { ImportResolver } from '../modules/imports/import.resolver';
import { ImportService } from '../modules/imports/import.service';
import { LeadConversionService } from '../modules/leads/lead-conversion.service';
import { LeadResolver } from '../modules/leads/lead.resolver';
import { LeadService } from '../modules/leads/lead.service';
import { LineItemService } from '../modules/opportunities/line-item.service';
import { LineItemResolver, OpportunityResolver, StageHistoryResolver } from '../modules/opportunities/opportunity.resolver';
import { OpportunityService } from '../modules/opportunities/opportunity.service';
import { PipelineDeletionService } from '../modules/pipelines/pipeline-deletion.service';
import { PipelineResolver, StageResolver } from '../modules/pipelines/pipeline.resolver';
import { PipelineService } from '../modules/pipelines/pipeline.service';
import { ProductResolver } from '../modules/products/product.resolver';
import { ProductService } from '../modules/products/product.service';
import { SearchResolver } from '../modules/search/search.resolver';
import { SearchService } from '../modules/search/search.service';
import { TeamResolver } from '../modules/teams/team.resolver';
import { TeamService } from '../modules/teams/team.service';
import { TimelineResolver } from '../modules/timeline/timeline.resolver';
import { TimelineService } from '../modules/timeline/timeline.service';
import { UserResolver } from '../modules/users/user.resolver';
import { UserService } from '../modules/users/user.service';
import { WorkspaceService } from '../modules/workspaces/workspace.service';
import { NotificationResolver } from '../modules/notifications/notification.resolver';
import { NotificationService } from '../modules/notifications/notification.service';
import { nodeKinds } from '../modules/nodes/node-kinds';
import { NodeResolver } from '../modules/nodes/node.resolver';
import { NodeService } from '../modules/nodes/node.service';
import { EventBus } from '../events/event-bus';
import { RealtimeResolver } from '../modules/realtime/realtime.resolver';
import { RealtimeService } from '../modules/realtime/realtime.service';
import { RecordFilterService } from '../modules/common/record-filter';
import { WebhookDeliveryService } from '../modules/webhooks/webhook-delivery.service';
import { WebhookEndpointService } from '../modules/webhooks/webhook-endpoint.service';
import { WebhookResolver } from '../modules/webhooks/webhook.resolver';
import { WebhookRuntime } from '../modules/webhooks/webhooks';
import { createAutomation } from '../modules/automation/automation.module';
import { AutomationResolver } from '../modules/automation/automation.resolver';
import { IntakeResolver } from '../modules/intake/intake.resolver';
import { IntakeService } from '../modules/intake/intake.service';
import { RollupCompactor } from '../modules/analytics/rollup-compactor';
import { ActivityFunnelService } from '../modules/analytics/activity-funnel.service';
import { AnalyticsResolver } from '../modules/analytics/analytics.resolver';
import { DealAnalyticsService } from '../modules/analytics/deal-analytics.service';
import { WorkspaceResolver } from '../modules/workspaces/workspace.resolver';
import { Metrics } from './metrics';
import { CostLimiter } from './cost-limiter';
import { LoginLimiter } from '../modules/auth/login-limiter';
import { SignUpLimiter } from '../modules/auth/signup-limiter';
import { defineLoaders } from '../data/loaders';
import { LOADERS } from '../modules/registry';

/** Every resolver class: the schema is built from exactly these. */
export const RESOLVERS = [
  AuthResolver,
  UserResolver,
  TeamResolver,
  ApiKeyResolver,
  AccountResolver,
  ContactResolver,
  LeadResolver,
  PipelineResolver,
  StageResolver,
  OpportunityResolver,
  LineItemResolver,
  StageHistoryResolver,
  ProductResolver,
  ActivityResolver,
  CustomFieldResolver,
  SearchResolver,
  TimelineResolver,
  ChangeFeedResolver,
  DuplicateResolver,
  ImportResolver,
  NotificationResolver,
  RealtimeResolver,
  WebhookResolver,
  AutomationResolver,
  IntakeResolver,
  AnalyticsResolver,
  WorkspaceResolver,
  NodeResolver,
] as const;

/**
 * The services, wired once: the composition root of the domain. `workerDs` is the workers' pool
 * (WORKER_DATABASE_URL, role trellis_background): the background workers and the password check use
 * it, requests never. Tools that start no worker and check no password (the admin CLI, benchmarks)
 * may leave it out.
 */
export function createServices(ds: DataSource, config: Config, log: Logger = createLogger('silent'), workerDs: DataSource = ds) {
  // Each pool is shared by every tenant: a workspace may hold only its share of it at once. Sized from
  // the pool as it was made (tests make smaller ones); a slot is waited for as long as a connection.
  for (const pool of new Set([ds, workerDs])) {
    const made = pool.options as { poolSize?: number; extra?: { connectionTimeoutMillis?: number } };
    limitConnectionsPerWorkspace(pool, {
      max: config.tenancy.maxConnectionsPerWorkspace || Math.ceil((made.poolSize ?? config.dbPoolSize) / 2),
      waitMs: made.extra?.connectionTimeoutMillis ?? config.dbConnectTimeoutMs,
      heavyAfterMs: config.tenancy.heavyWorkspaceSeconds * 1000,
    });
    deprioritizeSlowTransactions(pool, { afterMs: config.tenancy.lowPriorityAfterMs, nice: LOW_PRIORITY_NICE });
  }
  defineLoaders(LOADERS);
  const workspaces = new WorkspaceService();
  const auth = new AuthService(
    ds,
    config,
    workspaces,
    new LoginLimiter(ds, {
      perAccount: config.rateLimits.loginPerAccount,
      perAddress: config.rateLimits.loginPerAddress,
      windowSeconds: config.rateLimits.loginWindowSeconds,
    }),
    workerDs,
    new SignUpLimiter(ds, config.signUp),
  );
  const costLimiter = new CostLimiter(ds, { capacity: config.rateLimits.capacity, refillPerSecond: config.rateLimits.refillPerSecond }, log);
  const users = new UserService();
  const teams = new TeamService();
  const apiKeyCache = new ApiKeyCache(config.apiKeyCacheMs);
  const apiKeys = new ApiKeyService(apiKeyCache);
  const customFields = new CustomFieldService();
  const accounts = new AccountService(customFields, workspaces);
  const contacts = new ContactService(customFields);
  const leads = new LeadService(customFields);
  const pipelines = new PipelineService();
  const products = new ProductService(customFields, workspaces);
  const opportunities = new OpportunityService(customFields, pipelines, workspaces);
  const lineItems = new LineItemService(opportunities, products);
  const activities = new ActivityService(customFields);
  const leadConversion = new LeadConversionService(leads, accounts, contacts, opportunities, activities);
  const pipelineDeletion = new PipelineDeletionService(pipelines, opportunities);
  // The services of the CRM record kinds, by entity type: imports and automation act on records through them.
  const recordServices = { account: accounts, contact: contacts, lead: leads, opportunity: opportunities, product: products, activity: activities };
  const search = new SearchService();
  const timeline = new TimelineService();
  const changeFeed = new ChangeFeedService(config.changeFeedRetentionDays);
  const idempotency = new IdempotencyService();
  const duplicates = new DuplicateService();
  const imports = new ImportService(ds, customFields, recordServices, log, workerDs, config.tenancy.importJobsPerWorkspace);
  const notifications = new NotificationService();
  const metrics = new Metrics();
  // One per server instance: it follows the event log for every subscriber of this instance.
  const eventBus = new EventBus(workerDs, log);
  const realtime = new RealtimeService(ds, eventBus, changeFeed, activities, imports, config.ws.maxQueue);
  const recordFilters = new RecordFilterService(customFields);
  const webhookEndpoints = new WebhookEndpointService(recordFilters, notifications, config.webhooks.allowPrivateNetworks);
  const webhooks = new WebhookRuntime(workerDs, eventBus, recordFilters, webhookEndpoints, log, {
    allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
    timeoutMs: config.webhooks.timeoutMs,
    concurrency: config.webhooks.concurrency,
    enabled: config.webhooks.workers,
    onAttempt: (outcome) => metrics.webhookAttempt(outcome),
  });
  const webhookDeliveries = new WebhookDeliveryService(webhookEndpoints, changeFeed, recordFilters, () => webhooks.wake());
  const automation = createAutomation({
    ds,
    workerDs,
    config,
    log,
    bus: eventBus,
    filters: recordFilters,
    notifications,
    sender: webhooks.sender,
    records: recordServices,
    activities,
    metrics,
  });
  customFields.addUsers((ctx, entityType, key) => webhookEndpoints.customFieldUsers(ctx, entityType, key));
  customFields.addUsers((ctx, entityType, key) => automation.rules.customFieldUsers(ctx, entityType, key));
  const intake = new IntakeService(ds, leads, activities);
  const dealAnalytics = new DealAnalyticsService(recordFilters);
  const activityFunnel = new ActivityFunnelService(dealAnalytics);
  const rollupCompactor = new RollupCompactor(workerDs, log);
  workspaces.onCreate((tx, actor) => pipelines.createDefault(tx, actor));
  const nodes = new NodeService(
    nodeKinds({ activities, apiKeys, automationRules: automation.rules, customFields, imports, lineItems, notifications, webhookEndpoints, webhookDeliveries }),
  );
  return {
    workspaces,
    auth,
    users,
    teams,
    apiKeys,
    apiKeyCache,
    customFields,
    accounts,
    contacts,
    leads,
    pipelines,
    products,
    opportunities,
    lineItems,
    activities,
    leadConversion,
    pipelineDeletion,
    search,
    timeline,
    changeFeed,
    idempotency,
    duplicates,
    imports,
    notifications,
    eventBus,
    realtime,
    recordFilters,
    webhookEndpoints,
    webhookDeliveries,
    webhooks,
    automation,
    intake,
    dealAnalytics,
    activityFunnel,
    rollupCompactor,
    metrics,
    costLimiter,
    nodes,
    workerDs,
  };
}
export type Services = ReturnType<typeof createServices>;

/** The resolver instances type-graphql asks for, each given the services it needs. */
export function createResolverContainer(s: Services) {
  const instances = new Map<unknown, unknown>([
    [AuthResolver, new AuthResolver(s.auth, s.workspaces)],
    [UserResolver, new UserResolver(s.users)],
    [TeamResolver, new TeamResolver(s.teams)],
    [ApiKeyResolver, new ApiKeyResolver(s.apiKeys)],
    [AccountResolver, new AccountResolver(s.accounts)],
    [ContactResolver, new ContactResolver(s.contacts)],
    [LeadResolver, new LeadResolver(s.leads, s.leadConversion)],
    [PipelineResolver, new PipelineResolver(s.pipelines, s.pipelineDeletion)],
    [StageResolver, new StageResolver()],
    [OpportunityResolver, new OpportunityResolver(s.opportunities, s.lineItems)],
    [LineItemResolver, new LineItemResolver()],
    [StageHistoryResolver, new StageHistoryResolver()],
    [ProductResolver, new ProductResolver(s.products)],
    [ActivityResolver, new ActivityResolver(s.activities)],
    [CustomFieldResolver, new CustomFieldResolver(s.customFields)],
    [SearchResolver, new SearchResolver(s.search)],
    [TimelineResolver, new TimelineResolver(s.timeline)],
    [ChangeFeedResolver, new ChangeFeedResolver(s.changeFeed)],
    [DuplicateResolver, new DuplicateResolver(s.duplicates)],
    [ImportResolver, new ImportResolver(s.imports)],
    [NotificationResolver, new NotificationResolver(s.notifications)],
    [RealtimeResolver, new RealtimeResolver()],
    [WebhookResolver, new WebhookResolver(s.webhookEndpoints, s.webhookDeliveries)],
    [AutomationResolver, new AutomationResolver(s.automation.rules)],
    [IntakeResolver, new IntakeResolver(s.workspaces)],
    [AnalyticsResolver, new AnalyticsResolver(s.dealAnalytics, s.activityFunnel)],
    [WorkspaceResolver, new WorkspaceResolver(s.workspaces)],
    [NodeResolver, new NodeResolver(s.nodes)],
  ]);
  return {
    get(cls: unknown) {
      const instance = instances.get(cls);
      if (!instance) throw new Error(`no instance registered for ${String((cls as { name?: string }).name)}`);
      return instance;
    },
  };
}
