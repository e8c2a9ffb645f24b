export declare const RUN_SCHEMA_FILE: string;
export declare function runSchemaText(): string;
