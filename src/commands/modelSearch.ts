// Where Run Benchmark looks for workspace models. Kept free of `vscode` so the globs are unit-tested.

/** Workspace .onnx files offered in the model pick. */
export const MODEL_SEARCH_INCLUDE = '**/*.onnx';

/** Folders whose .onnx files are not the user's models: dependencies, git internals, and the
 *  test suites' artefacts (`test-output/`, generated models and caches). */
export const MODEL_SEARCH_EXCLUDE = '**/{node_modules,.git,test-output}/**';
