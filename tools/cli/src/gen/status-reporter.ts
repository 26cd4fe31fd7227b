// Generated from the status-reporter's /openapi.json by e2e/test/cli.test.ts (RUNNERHUB_UPDATE_API_TYPES=1): do not edit.
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
    "/api/reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Reports (check runs RunnerHub writes), most recently changed first */
        get: {
            parameters: {
                query: {
                    state?: "pending" | "sent" | "failed" | "disabled";
                    kind?: "unmatched" | "stuck" | "runner_failed" | "job_report";
                    installation?: string;
                    job?: string;
                    pool?: string;
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
                            reports: {
                                id: string;
                                jobId: string;
                                kind: string;
                                installationId: string;
                                repository: string;
                                headSha: string;
                                pool: string | null;
                                name: string;
                                externalId: string;
                                /** @description pending (GitHub does not show it yet), sent, failed (gave up; retry sends it again) or disabled (installation switched off) */
                                state: string;
                                /** @description GitHub shows the latest content */
                                inSync: boolean;
                                checkRunId: string | null;
                                htmlUrl: string | null;
                                title: string;
                                attempts: number;
                                lastError: string | null;
                                nextAttemptAt: string | null;
                                createdAt: string;
                                updatedAt: string;
                                sentAt: string | null;
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
    "/api/reports/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One report with the content GitHub is (or will be) shown */
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
                            jobId: string;
                            kind: string;
                            installationId: string;
                            repository: string;
                            headSha: string;
                            pool: string | null;
                            name: string;
                            externalId: string;
                            /** @description pending (GitHub does not show it yet), sent, failed (gave up; retry sends it again) or disabled (installation switched off) */
                            state: string;
                            /** @description GitHub shows the latest content */
                            inSync: boolean;
                            checkRunId: string | null;
                            htmlUrl: string | null;
                            title: string;
                            attempts: number;
                            lastError: string | null;
                            nextAttemptAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                            sentAt: string | null;
                        } & {
                            output: {
                                status: string;
                                conclusion?: string;
                                title: string;
                                summary: string;
                                text?: string;
                            };
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
    "/api/reports/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a report to GitHub again (a failed one, or a sent one whose check run should be rewritten) */
        post: {
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
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            jobId: string;
                            kind: string;
                            installationId: string;
                            repository: string;
                            headSha: string;
                            pool: string | null;
                            name: string;
                            externalId: string;
                            /** @description pending (GitHub does not show it yet), sent, failed (gave up; retry sends it again) or disabled (installation switched off) */
                            state: string;
                            /** @description GitHub shows the latest content */
                            inSync: boolean;
                            checkRunId: string | null;
                            htmlUrl: string | null;
                            title: string;
                            attempts: number;
                            lastError: string | null;
                            nextAttemptAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                            sentAt: string | null;
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
    "/api/installations/disabled": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Installations whose reporting is off because GitHub refused a permission */
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
                            installations: {
                                installationId: string;
                                reason: string;
                                disabledAt: string;
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
    "/api/installations/{id}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Report for an installation again (after granting the App checks: write); its held-back reports are sent */
        post: {
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
                            installationId: string;
                            requeued: number;
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
