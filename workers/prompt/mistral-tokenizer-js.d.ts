// mistral-tokenizer-js ships no types; it has llama-tokenizer-js's API (same author lineage).
declare module "mistral-tokenizer-js" {
  interface SentencePieceTokenizerModule {
    vocabById: string[];
    encode(prompt: string, addBosToken?: boolean, addPrecedingSpace?: boolean, logPerformance?: boolean): number[];
    decode(tokenIds: number[], addBosToken?: boolean, addPrecedingSpace?: boolean): string;
  }
  const mistralTokenizer: SentencePieceTokenizerModule;
  export default mistralTokenizer;
}
