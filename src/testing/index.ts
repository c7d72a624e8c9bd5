// autoglm/testing: a LanguageModel that replies from a script, for testing tools, agents and workflows without ONNX.
// Its source stays in test/support/ (where the suite's own tests have always imported it from); this entry
// publishes it with the package.
export { ScriptedModel, type ScriptedCall, type ScriptedReply } from '../../test/support/scripted-model';
