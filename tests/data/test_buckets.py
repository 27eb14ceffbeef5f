"""Length buckets: every example once, seeded, little padding."""

import torch

from rnnkit.data.buckets import bucket_batches, pad_sequences


def test_every_index_once_seeded_and_different_per_epoch():
    lengths = torch.randint(1, 60, (1000,), generator=torch.Generator().manual_seed(0)).tolist()
    first = bucket_batches(lengths, 32, seed=1, epoch=0)
    assert sorted(i for batch in first for i in batch) == list(range(1000))
    assert first == bucket_batches(lengths, 32, seed=1, epoch=0)
    assert first != bucket_batches(lengths, 32, seed=1, epoch=1)
    assert first != bucket_batches(lengths, 32, seed=2, epoch=0)


def test_buckets_cut_padding():
    lengths = torch.randint(1, 60, (3200,), generator=torch.Generator().manual_seed(0)).tolist()

    def padding(batches):
        return sum(
            max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches
        )

    shuffled = torch.randperm(3200, generator=torch.Generator().manual_seed(0)).tolist()
    random_batches = [shuffled[i : i + 32] for i in range(0, 3200, 32)]
    bucketed = bucket_batches(lengths, 32, seed=0)
    assert padding(bucketed) * 20 < padding(random_batches)


def test_evaluation_order_is_sorted_by_length():
    batches = bucket_batches([5, 1, 3, 1], 2, shuffle=False)
    assert batches == [[1, 3], [2, 0]]


def test_pad_sequences():
    padded, lengths = pad_sequences([torch.tensor([1, 2, 3]), torch.tensor([4])])
    assert padded.tolist() == [[1, 2, 3], [4, 0, 0]] and lengths.tolist() == [3, 1]
    features, lengths = pad_sequences([torch.ones(2, 3), torch.ones(4, 3)])
    assert (
        features.shape == (2, 4, 3)
        and features[0, 2:].abs().sum() == 0
        and lengths.tolist() == [2, 4]
    )
