// Generated from the scheduler's /openapi.json by e2e/test/cli.test.ts (RUNNERHUB_UPDATE_API_TYPES=1): do not edit.
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
    "/api/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Jobs, newest first */
        get: {
            parameters: {
                query: {
                    status?: string;
                    pool?: string;
                    /** @description owner/name */
                    repo?: string;
                    match?: "matched" | "unmatched" | "refused" | "not_ours";
                    priority?: "critical" | "high" | "normal" | "low";
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
                            jobs: {
                                jobId: string;
                                repo: string;
                                workflowName: string;
                                jobName: string;
                                labels: string[];
                                status: string;
                                conclusion: string | null;
                                /** @description matched, unmatched (no pool can serve it), refused (a public repository or a fork's pull request no pool allows) or not_ours (GitHub-hosted labels) */
                                match: string;
                                pool: string | null;
                                matchDetail: string | null;
                                runnerName: string | null;
                                /** @description critical, high, normal or low, from SCHEDULER_RULES_FILE */
                                priority: string;
                                /** @description webhook, or reconciler when no webhook told us about the job */
                                foundBy: string;
                                createdAt: string | null;
                                startedAt: string | null;
                                completedAt: string | null;
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
    "/api/jobs/{jobId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One job with the time of each transition */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    jobId: string;
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
                            jobId: string;
                            repo: string;
                            workflowName: string;
                            jobName: string;
                            labels: string[];
                            status: string;
                            conclusion: string | null;
                            /** @description matched, unmatched (no pool can serve it), refused (a public repository or a fork's pull request no pool allows) or not_ours (GitHub-hosted labels) */
                            match: string;
                            pool: string | null;
                            matchDetail: string | null;
                            runnerName: string | null;
                            /** @description critical, high, normal or low, from SCHEDULER_RULES_FILE */
                            priority: string;
                            /** @description webhook, or reconciler when no webhook told us about the job */
                            foundBy: string;
                            createdAt: string | null;
                            startedAt: string | null;
                            completedAt: string | null;
                        } & {
                            transitions: {
                                transition: string;
                                at: string;
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
    "/api/jobs/{jobId}/why": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Why is this job still queued: a structured answer and one sentence for a person */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    jobId: string;
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
                            reason: string;
                            detail: string;
                            closestPools: {
                                pool: string;
                                missing: string[];
                            }[];
                            lastError: string | null;
                            since: string | null;
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
    "/api/demand": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Demand per pool as the pool-manager gets it: pending jobs by class, jobs held back by caps, running jobs */
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
                                pool: string;
                                pending: {
                                    critical: number;
                                    high: number;
                                    normal: number;
                                    low: number;
                                };
                                overCap: number;
                                running: number;
                                oldestPendingAt: string | null;
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
    "/api/reconciler/run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run the missed-job reconciler now (waits for a running cycle first): compare GitHub's queued runs and jobs with ours */
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
                            repositories: number;
                            runs: number;
                            jobsSeen: number;
                            /** @description queued jobs no webhook told us about */
                            found: number;
                            /** @description known jobs GitHub says started or completed */
                            advanced: number;
                            /** @description waiting jobs asked about one by one */
                            checked: number;
                            stoppedBy: string | null;
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
