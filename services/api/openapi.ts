import { z } from 'zod';
import { acknowledgeSchema, alertFilterSchema, alertListQuerySchema, resolveSchema } from './v1.js';

/**
 * /api/openapi.json: the OpenAPI 3.1 document of /api/v1, its parameters
 * and request bodies generated from the same zod schemas the routes
 * validate with, so the two cannot drift apart.
 */

type JsonSchema = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function queryParameters(shape: Record<string, z.ZodType>): JsonSchema[] {
  return Object.entries(shape)
    .filter(([name]) => name !== '_csrf')
    .map(([name, s]) => {
      const schema = schemaOf(s, 'output');
      const description = s.description;
      return { name, in: 'query', required: false, schema, ...(schema.type === 'array' ? { style: 'form', explode: false } : {}), ...(description ? { description } : {}) };
    });
}

function body(s: z.ZodType): JsonSchema {
  return { required: true, content: { 'application/json': { schema: schemaOf(s, 'input') }, 'application/x-www-form-urlencoded': { schema: schemaOf(s, 'input') } } };
}

const error = { description: 'an error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const errors = {
  '400': { ...error, description: 'invalid parameters or body: the message names each problem' },
  '401': { ...error, description: 'not logged in, session expired, or the bearer token is not valid' },
  '403': { ...error, description: 'the role may not do this, or the CSRF token is missing' },
};
const ok = (description: string, schema: JsonSchema = { type: 'object' }) => ({ description, content: { 'application/json': { schema } } });
const idPath = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };

export function openApiDocument(serverUrl: string): JsonSchema {
  const alertItem: JsonSchema = {
    type: 'object',
    required: ['id', 'cityCode', 'level', 'status'],
    properties: {
      id: { type: 'integer' },
      cityCode: { type: 'string', pattern: '^\\d{6}$' },
      cityName: { type: 'string' },
      level: { type: 'integer', minimum: 1, maximum: 4, description: '1 = Ⅰ (most severe) … 4 = Ⅳ' },
      peakLevel: { type: 'integer' },
      status: { type: 'string', enum: ['pending', 'open', 'acknowledged', 'resolved'] },
      kind: { type: 'string', enum: ['layoff', 'unreported', 'crosscheck', 'systemic'] },
      subjectType: { type: 'string', enum: ['employer', 'city'] },
      subject: { type: 'string', description: 'the USCC, or the city code' },
      name: { type: 'string' },
      firstPeriod: { type: 'string' },
      lastPeriod: { type: 'string' },
      openedAt: { type: ['string', 'null'], format: 'date-time' },
      acknowledgedAt: { type: ['string', 'null'], format: 'date-time' },
      resolvedAt: { type: ['string', 'null'], format: 'date-time' },
      disposition: { type: ['string', 'null'] },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'layoff-ews API',
      version: '1',
      description:
        'Alerts, employers, cities and runs of the layoff early-warning service. Authenticate with `Authorization: Bearer <token>` (`ews tokens create --email <e>`) or the console session cookie; with the cookie, every POST must carry the session\'s CSRF token (`X-CSRF-Token`, from GET /api/v1/me). A city account sees only its own city: anything else answers 404.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'ews_… tokens from `ews tokens create`' },
        session: { type: 'apiKey', in: 'cookie', name: 'ews_session' },
      },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' }, details: { type: 'array', items: { type: 'string' } } } },
        AlertItem: alertItem,
      },
    },
    paths: {
      '/api/v1/me': { get: { summary: 'The caller: role, city, CSRF token of a session', responses: { '200': ok('the caller'), '401': errors['401'] } } },
      '/api/v1/alerts': {
        get: {
          summary: 'Alerts in the caller\'s scope, filtered, sorted and paginated',
          parameters: queryParameters(alertListQuerySchema.shape),
          responses: {
            '200': ok('one page', { type: 'object', required: ['items', 'total'], properties: { items: { type: 'array', items: { $ref: '#/components/schemas/AlertItem' } }, total: { type: 'integer' }, page: { type: 'integer' }, pageSize: { type: 'integer' } } }),
            ...errors,
          },
        },
      },
      '/api/v1/alerts.csv': {
        get: {
          summary: 'The same list as CSV (UTF-8 with BOM, formula-safe), streamed; takes the same filters',
          parameters: queryParameters(alertFilterSchema.shape),
          responses: { '200': { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errors },
        },
      },
      '/api/v1/alerts/{id}': {
        get: { summary: 'One alert: evidence, the employer\'s months, history and e-mails', parameters: [idPath], responses: { '200': ok('the alert'), ...errors, '404': { ...error, description: 'no such alert in the caller\'s scope' } } },
      },
      '/api/v1/alerts/{id}/acknowledge': {
        post: { summary: 'Acknowledge (open → acknowledged)', parameters: [idPath], requestBody: body(acknowledgeSchema), responses: { '200': ok('the new status'), ...errors, '404': error, '409': { ...error, description: 'the alert is not open' } } },
      },
      '/api/v1/alerts/{id}/resolve': {
        post: { summary: 'Resolve with a disposition (误报 and 核实为规模裁员 become training labels)', parameters: [idPath], requestBody: body(resolveSchema), responses: { '200': ok('the new status'), ...errors, '404': error, '409': error } },
      },
      '/api/v1/employers/{uscc}': {
        get: {
          summary: 'An employer\'s risk by month beside the feeds\' series',
          parameters: [{ name: 'uscc', in: 'path', required: true, schema: { type: 'string', minLength: 18, maxLength: 18 } }, { name: 'from', in: 'query', schema: { type: 'string' } }, { name: 'to', in: 'query', schema: { type: 'string' } }],
          responses: { '200': ok('the employer'), ...errors, '404': error },
        },
      },
      '/api/v1/cities': { get: { summary: 'The cities in scope: systemic level, open alerts, acknowledgement times, key groups, data freshness', responses: { '200': ok('the overview'), ...errors } } },
      '/api/v1/cities/{code}': {
        get: { summary: 'A city\'s systemic risk and key groups by month', parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }, { name: 'from', in: 'query', schema: { type: 'string' } }, { name: 'to', in: 'query', schema: { type: 'string' } }], responses: { '200': ok('the city'), ...errors, '404': error } },
      },
      '/api/v1/runs': { get: { summary: 'Nightly scoring runs with their nights, the latest batches, feed freshness', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } }], responses: { '200': ok('runs'), ...errors } } },
      '/api/v1/audit': { get: { summary: 'The audit log (province only), newest first', parameters: [{ name: 'before', in: 'query', schema: { type: 'integer' } }, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 500 } }, { name: 'action', in: 'query', schema: { type: 'string' } }], responses: { '200': ok('entries'), ...errors } } },
    },
  };
}
