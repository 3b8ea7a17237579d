/**
 * `GET /openapi.json`: OpenAPI 3.1 generated from the field table that checks submissions (./fields.ts), the
 * server's limits and the served model's camera-motion LoRA names (./camera-loras.ts), so the document and the
 * validation cannot drift apart.
 */
import { cameraLoraSchema } from './camera-loras.ts';
import { fieldMaximum, HTTP_FIELDS, SERVER_ONLY_FIELDS } from './fields.ts';
import type { ServerLimits } from './limits.ts';

function fieldSchema(limits: ServerLimits, loraNames: readonly string[]) {
  const properties: Record<string, unknown> = {};
  for (const f of HTTP_FIELDS) {
    const max = fieldMaximum(f, limits);
    const base: Record<string, unknown> = { type: f.type, description: f.description };
    if (f.minimum !== undefined) base.minimum = f.minimum;
    if (max !== undefined) base.maximum = max;
    if (f.enum) base.enum = [...f.enum];
    if (f.name === 'seed') {
      properties[f.name] = {
        description: f.description,
        oneOf: [
          base,
          { type: 'string', description: '"random", or a comma-separated list of seeds' },
          { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: limits.maxVideos },
        ],
      };
    } else if (f.name === 'size') {
      properties[f.name] = { ...base, pattern: '^(\\d+x\\d+|native)$' };
    } else if (f.name === 'lora') {
      properties[f.name] = cameraLoraSchema(loraNames);
    } else {
      properties[f.name] = base;
    }
  }
  return properties;
}

export function openApiDocument(limits: ServerLimits, version: string, loraNames: readonly string[] = []) {
  const fields = fieldSchema(limits, loraNames);
  const error = {
    type: 'object',
    properties: {
      error: { type: 'string' },
      issues: {
        type: 'array',
        items: {
          type: 'object',
          properties: { field: { type: 'string' }, value: {}, expected: { type: 'string' } },
          required: ['field', 'expected'],
        },
      },
    },
    required: ['error'],
  };
  const errorRef = { $ref: '#/components/schemas/Error' };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^v[0-9a-f]{24}$' } };
  const errors = {
    '400': { description: 'malformed request', content: { 'application/json': { schema: errorRef } } },
    '401': { description: 'missing or wrong API key', content: { 'application/json': { schema: errorRef } } },
    '404': { description: 'no such job', content: { 'application/json': { schema: errorRef } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'svd-ts',
      version,
      description: `Stable Video Diffusion image-to-video jobs. Fields the server alone sets: ${SERVER_ONLY_FIELDS.join(', ')}.`,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: error,
        GenerateFields: { type: 'object', properties: fields, additionalProperties: false },
        GenerateJson: {
          type: 'object',
          properties: {
            image: { type: 'string', description: 'the image (PNG, JPEG or WebP), base64 or a data: URL' },
            ...fields,
          },
          required: ['image'],
          additionalProperties: false,
        },
        GenerateMultipart: {
          type: 'object',
          properties: {
            image: { type: 'string', format: 'binary', description: 'PNG, JPEG or WebP' },
            ...fields,
          },
          required: ['image'],
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/videos': {
        post: {
          summary: 'Queue an image-to-video job',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': { schema: { $ref: '#/components/schemas/GenerateMultipart' } },
              'application/json': { schema: { $ref: '#/components/schemas/GenerateJson' } },
            },
          },
          responses: {
            '202': { description: 'queued: { id, state, position, links }' },
            '413': { description: `body over ${limits.maxBodyBytes} bytes` },
            '415': { description: 'neither JSON nor multipart/form-data' },
            '422': { description: 'field-level issues', content: { 'application/json': { schema: errorRef } } },
            '429': { description: 'the queue is full; see Retry-After' },
            ...errors,
          },
        },
        get: {
          summary: 'List jobs, newest first',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'the previous page’s next' },
            {
              name: 'state',
              in: 'query',
              schema: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
            },
          ],
          responses: { '200': { description: '{ videos: [job], next? }' }, ...errors },
        },
      },
      '/v1/videos/{id}': {
        get: {
          summary: 'A job: state, progress, parameters, timings, result or error',
          parameters: [idParam],
          responses: { '200': { description: 'the job' }, ...errors },
        },
        delete: {
          summary: 'Cancel a queued or running job (stops between engine calls), or delete a finished one',
          parameters: [idParam],
          responses: {
            '202': { description: 'cancelled or cancelling' },
            '204': { description: 'deleted' },
            ...errors,
          },
        },
      },
      '/v1/videos/{id}/events': {
        get: {
          summary:
            'Server-Sent Events: queued (position), started, stage, step (i/n, preview PNG data URL), notice, done, failed, cancelled; resumes after Last-Event-ID',
          parameters: [idParam, { name: 'Last-Event-ID', in: 'header', schema: { type: 'integer' } }],
          responses: { '200': { description: 'text/event-stream' }, ...errors },
        },
      },
      '/v1/videos/{id}/file': {
        get: {
          summary: 'The video (single byte ranges supported)',
          parameters: [
            idParam,
            { name: 'video', in: 'query', schema: { type: 'integer', minimum: 0 } },
            { name: 'download', in: 'query', schema: { type: 'integer', enum: [0, 1] } },
            { name: 'Range', in: 'header', schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'video/mp4' },
            '206': { description: 'a range' },
            '409': { description: 'not done' },
            '416': { description: 'unsatisfiable range' },
            ...errors,
          },
        },
      },
      '/v1/videos/{id}/image': {
        get: {
          summary: 'The job’s input image',
          parameters: [idParam],
          responses: { '200': { description: 'the image' }, ...errors },
        },
      },
      '/v1/model': {
        get: {
          summary: 'The served model: name, camera-motion LoRAs (the names `lora` takes), defaults, request limits',
          responses: {
            '200': { description: '{ name, cameraLoras: [name], defaults: { frames, steps, fps, … }, limits }' },
            '401': errors['401'],
          },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness (no API key needed)', security: [], responses: { '200': { description: '{ ok }' } } },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain; version=0.0.4' } } },
      },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  };
}
