// The openai npm SDK against Parley's OpenAI-compatible routes: one streamed chat and one tool
// call. Prints one JSON line with what it saw; the Python test judges it.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.PARLEY_BASE_URL, apiKey: process.env.PARLEY_TOKEN, maxRetries: 0 });

const stream = await client.chat.completions.create({
  model: "parley-offline",
  messages: [{ role: "user", content: "Hello from Node" }],
  stream: true,
  stream_options: { include_usage: true },
});
const pieces = [];
let finish = null;
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) {
    pieces.push(chunk.choices[0].delta.content ?? "");
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  usage = chunk.usage ?? usage;
}

const tools = [{
  type: "function",
  function: {
    name: "get_weather",
    description: "The current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
}];
const called = await client.chat.completions.create({
  model: "parley-offline",
  messages: [{ role: "user", content: "What is the weather in Oslo?" }],
  tools,
});

let notFound = null;
try {
  await client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] });
} catch (error) {
  notFound = { name: error.constructor.name, status: error.status, code: error.code };
}

console.log(JSON.stringify({
  streamed: pieces.join(""),
  pieces: pieces.filter((p) => p).length,
  finish,
  usage,
  toolCalls: called.choices[0].message.tool_calls,
  toolFinish: called.choices[0].finish_reason,
  notFound,
}));
