// Generated from the pool-manager's /openapi.json by e2e/test/cli.test.ts (RUNNERHUB_UPDATE_API_TYPES=1): do not edit.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: 200 while the process runs */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: 503 while starting, while a dependency is down, and from the start of shutdown */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/pools": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Pools with their runners by state, demand and the last provisioning error */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            pools: {
                                name: string;
                                source: "file" | "api";
                                labels: string[];
                                image: string;
                                drained: boolean;
                                /** @description the default warm minimum */
                                minIdle: number;
                                /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                                warmNow: number;
                                /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                                warm: {
                                    min: number;
                                    until: string | null;
                                } | null;
                                max: number;
                                pending: number;
                                running: number;
                                runners: {
                                    [key: string]: number;
                                };
                                lastError: string;
                                backoffUntil: string | null;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create a pool (not one named in POOLS_FILE) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description a pool: the fields of a POOLS_FILE entry as JSON (docs/pools.md); errors name the field */
            requestBody: {
                content: {
                    "application/json": unknown;
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            source: "file" | "api";
                            labels: string[];
                            image: string;
                            drained: boolean;
                            /** @description the default warm minimum */
                            minIdle: number;
                            /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                            warmNow: number;
                            /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                            warm: {
                                min: number;
                                until: string | null;
                            } | null;
                            max: number;
                            pending: number;
                            running: number;
                            runners: {
                                [key: string]: number;
                            };
                            lastError: string;
                            backoffUntil: string | null;
                            /** @description the pool as in docs/pools.md, defaults filled in */
                            spec: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/pools/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One pool: its definition and status */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            source: "file" | "api";
                            labels: string[];
                            image: string;
                            drained: boolean;
                            /** @description the default warm minimum */
                            minIdle: number;
                            /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                            warmNow: number;
                            /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                            warm: {
                                min: number;
                                until: string | null;
                            } | null;
                            max: number;
                            pending: number;
                            running: number;
                            runners: {
                                [key: string]: number;
                            };
                            lastError: string;
                            backoffUntil: string | null;
                            /** @description the pool as in docs/pools.md, defaults filled in */
                            spec: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
        /** Replace a pool created through the API; runners pick up the change as they are replaced */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            /** @description a pool: the fields of a POOLS_FILE entry as JSON (docs/pools.md); errors name the field */
            requestBody: {
                content: {
                    "application/json": unknown;
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            source: "file" | "api";
                            labels: string[];
                            image: string;
                            drained: boolean;
                            /** @description the default warm minimum */
                            minIdle: number;
                            /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                            warmNow: number;
                            /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                            warm: {
                                min: number;
                                until: string | null;
                            } | null;
                            max: number;
                            pending: number;
                            running: number;
                            runners: {
                                [key: string]: number;
                            };
                            lastError: string;
                            backoffUntil: string | null;
                            /** @description the pool as in docs/pools.md, defaults filled in */
                            spec: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
        post?: never;
        /** Delete a pool created through the API: no new jobs match it, waiting runners go now, busy ones finish */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deleted: string;
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/pools/{name}/drain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Drain a pool (file pools too): no new runners, waiting ones go now, busy ones finish */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            source: "file" | "api";
                            labels: string[];
                            image: string;
                            drained: boolean;
                            /** @description the default warm minimum */
                            minIdle: number;
                            /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                            warmNow: number;
                            /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                            warm: {
                                min: number;
                                until: string | null;
                            } | null;
                            max: number;
                            pending: number;
                            running: number;
                            runners: {
                                [key: string]: number;
                            };
                            lastError: string;
                            backoffUntil: string | null;
                            /** @description the pool as in docs/pools.md, defaults filled in */
                            spec: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
        /** Undrain a pool */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            source: "file" | "api";
                            labels: string[];
                            image: string;
                            drained: boolean;
                            /** @description the default warm minimum */
                            minIdle: number;
                            /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                            warmNow: number;
                            /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                            warm: {
                                min: number;
                                until: string | null;
                            } | null;
                            max: number;
                            pending: number;
                            running: number;
                            runners: {
                                [key: string]: number;
                            };
                            lastError: string;
                            backoffUntil: string | null;
                            /** @description the pool as in docs/pools.md, defaults filled in */
                            spec: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/pools/{name}/warm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Hold `min` warm runners in a pool (file pools too) instead of its minIdle and warm schedules, for `seconds` or until cleared; 0 holds none */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        min: number;
                        /** @description how long; absent: until DELETE */
                        seconds?: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            source: "file" | "api";
                            labels: string[];
                            image: string;
                            drained: boolean;
                            /** @description the default warm minimum */
                            minIdle: number;
                            /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                            warmNow: number;
                            /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                            warm: {
                                min: number;
                                until: string | null;
                            } | null;
                            max: number;
                            pending: number;
                            running: number;
                            runners: {
                                [key: string]: number;
                            };
                            lastError: string;
                            backoffUntil: string | null;
                            /** @description the pool as in docs/pools.md, defaults filled in */
                            spec: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
        post?: never;
        /** Clear an operator's warm minimum: the pool holds its minIdle and warm schedules again */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            source: "file" | "api";
                            labels: string[];
                            image: string;
                            drained: boolean;
                            /** @description the default warm minimum */
                            minIdle: number;
                            /** @description the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it) */
                            warmNow: number;
                            /** @description an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared) */
                            warm: {
                                min: number;
                                until: string | null;
                            } | null;
                            max: number;
                            pending: number;
                            running: number;
                            runners: {
                                [key: string]: number;
                            };
                            lastError: string;
                            backoffUntil: string | null;
                            /** @description the pool as in docs/pools.md, defaults filled in */
                            spec: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/pools/reload": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Read POOLS_FILE again (also on SIGHUP); an invalid file changes nothing */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            pools: string[];
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/hosts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Docker hosts from their executors' heartbeats, with their budgets and drain state */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            hosts: {
                                host: string;
                                healthy: boolean;
                                /** @description drained here (pool-manager) */
                                drained: boolean;
                                /** @description draining at the executor (EXECUTOR drain) */
                                draining: boolean;
                                cpus: number;
                                reservedCpus: number;
                                memoryBytes: number;
                                reservedMemoryBytes: number;
                                running: number;
                                maxContainers: number;
                                images: string[];
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/hosts/{host}/drain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Drain a host: no new runners there, waiting ones go now, busy ones finish */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    host: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            host: string;
                            drained: boolean;
                        };
                    };
                };
            };
        };
        /** Undrain a host */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    host: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            host: string;
                            drained: boolean;
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/runners": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Runners, newest first */
        get: {
            parameters: {
                query: {
                    pool?: string;
                    live: boolean;
                    limit: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            runners: {
                                id: string;
                                name: string;
                                pool: string;
                                host: string;
                                state: string;
                                githubRunnerId: string | null;
                                containerId: string | null;
                                jobId: string | null;
                                /** @description why it failed, or why it was removed when a person should know */
                                failure: string | null;
                                requestedAt: string;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/runners/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One runner */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            pool: string;
                            host: string;
                            state: string;
                            githubRunnerId: string | null;
                            containerId: string | null;
                            jobId: string | null;
                            /** @description why it failed, or why it was removed when a person should know */
                            failure: string | null;
                            requestedAt: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Remove a runner: its GitHub registration, then its container. A busy runner is kept unless force=true, which fails its job. */
        delete: {
            parameters: {
                query: {
                    force: boolean;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            pool: string;
                            host: string;
                            state: string;
                            githubRunnerId: string | null;
                            containerId: string | null;
                            jobId: string | null;
                            /** @description why it failed, or why it was removed when a person should know */
                            failure: string | null;
                            requestedAt: string;
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
