"""The seed's "hello world" example, done right with rnnkit.

An Elman RNN (Keras's SimpleRNN) reads "hello world" and predicts the next
character at *every* position (return_sequences=True in Keras terms), so the
target is the input shifted by one. Generation then carries the hidden state
from one character to the next instead of re-running the prefix.

    python examples/hello_world.py
"""

import torch
from torch.nn import functional as F

from rnnkit.data import CharTokenizer
from rnnkit.generate import sample
from rnnkit.models import LanguageModel, LanguageModelConfig

text = "hello world"
torch.manual_seed(0)
tokenizer = CharTokenizer.from_text(text)
ids = tokenizer.encode(text).unsqueeze(0)  # (batch=1, time=11)
inputs, targets = ids[:, :-1], ids[:, 1:]  # predict the next character at every position

model = LanguageModel(
    LanguageModelConfig(
        vocab_size=tokenizer.vocab_size, cell="rnn", embedding_size=8, hidden_size=32
    )
)
optimizer = torch.optim.AdamW(model.parameters(), lr=0.02)
for step in range(200):
    logits, _ = model(inputs)  # (1, 10, vocab)
    loss = F.cross_entropy(logits.reshape(-1, tokenizer.vocab_size), targets.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"final loss {loss.item():.4f} nats/char")

continuation = sample(model, ids[:, :1], length=len(text) - 1, temperature=0, banned=(0,))
print("generated:", "h" + tokenizer.decode(continuation[0]))
