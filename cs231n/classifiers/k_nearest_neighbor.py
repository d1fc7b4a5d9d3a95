"""k-nearest-neighbour classifier with L2 distance (assignment 1, knn notebook)."""
from __future__ import annotations

import numpy as np

from cs231n._checks import check_int
from cs231n.classifiers._checks import check_data, check_labels

__all__ = ["KNearestNeighbor"]


class KNearestNeighbor:
    """ a kNN classifier with L2 distance """

    def __init__(self):
        pass

    def train(self, X: np.ndarray, y: np.ndarray) -> None:
        """
        Train the classifier. For k-nearest neighbors this is just
        memorizing the training data.

        Inputs:
        - X: A numpy array of shape (num_train, D) containing the training data
          consisting of num_train samples each of dimension D.
        - y: A numpy array of shape (N,) containing the training labels, where
             y[i] is the label for X[i].
        """
        X = check_data(X, "X_train")
        y = check_labels(y, X.shape[0], name="y_train")
        self.X_train = X
        self.y_train = y

    def predict(self, X: np.ndarray, k: int = 1, num_loops: int = 0) -> np.ndarray:
        """
        Predict labels for test data using this classifier.

        Inputs:
        - X: A numpy array of shape (num_test, D) containing test data consisting
             of num_test samples each of dimension D.
        - k: The number of nearest neighbors that vote for the predicted labels.
        - num_loops: Determines which implementation to use to compute distances
          between training points and testing points.

        Returns:
        - y: A numpy array of shape (num_test,) containing predicted labels for the
          test data, where y[i] is the predicted label for the test point X[i].
        """
        # Check k before the (possibly slow) distance computation.
        self._check_k(k)
        if num_loops == 0:
            dists = self.compute_distances_no_loops(X)
        elif num_loops == 1:
            dists = self.compute_distances_one_loop(X)
        elif num_loops == 2:
            dists = self.compute_distances_two_loops(X)
        else:
            raise ValueError(f'Invalid value {num_loops} for num_loops (use 0, 1 or 2)')

        return self.predict_labels(dists, k=k)

    def compute_distances_two_loops(self, X: np.ndarray) -> np.ndarray:
        """
        Compute the distance between each test point in X and each training point
        in self.X_train using a nested loop over both the training data and the
        test data.

        Inputs:
        - X: A numpy array of shape (num_test, D) containing test data.

        Returns:
        - dists: A numpy array of shape (num_test, num_train) where dists[i, j]
          is the Euclidean distance between the ith test point and the jth training
          point.
        """
        X, X_train = self._float64_pair(X)
        num_test = X.shape[0]
        num_train = X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        for i in range(num_test):
            for j in range(num_train):
                #####################################################################
                # TODO:                                                             #
                # Compute the l2 distance between the ith test point and the jth    #
                # training point, and store the result in dists[i, j]. You should   #
                # not use a loop over dimension, nor use np.linalg.norm().          #
                #####################################################################
                # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

                dists[i, j] = np.sqrt(np.sum(np.square(X[i] - X_train[j])))

                # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dists

    def compute_distances_one_loop(self, X: np.ndarray) -> np.ndarray:
        """
        Compute the distance between each test point in X and each training point
        in self.X_train using a single loop over the test data.

        Input / Output: Same as compute_distances_two_loops
        """
        X, X_train = self._float64_pair(X)
        num_test = X.shape[0]
        num_train = X_train.shape[0]
        dists = np.zeros((num_test, num_train))
        for i in range(num_test):
            #######################################################################
            # TODO:                                                               #
            # Compute the l2 distance between the ith test point and all training #
            # points, and store the result in dists[i, :].                        #
            # Do not use np.linalg.norm().                                        #
            #######################################################################
            # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

            dists[i, :] = np.sqrt(np.sum(np.square(X_train - X[i]), axis=1))

            # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dists

    def compute_distances_no_loops(self, X: np.ndarray) -> np.ndarray:
        """
        Compute the distance between each test point in X and each training point
        in self.X_train using no explicit loops.

        Uses ||x - t||^2 = ||x||^2 + ||t||^2 - 2 x.t, i.e. one (num_test, D) x
        (D, num_train) matrix product. Computed in float64; rounding can make a
        squared distance slightly negative, so it is clipped at 0 before the sqrt.

        Input / Output: Same as compute_distances_two_loops
        """
        X, X_train = self._float64_pair(X)
        dists = np.zeros((X.shape[0], X_train.shape[0]))
        #########################################################################
        # TODO:                                                                 #
        # Compute the l2 distance between all test points and all training      #
        # points without using any explicit loops, and store the result in      #
        # dists.                                                                #
        #                                                                       #
        # You should implement this function using only basic array operations; #
        # in particular you should not use functions from scipy,                #
        # nor use np.linalg.norm().                                             #
        #                                                                       #
        # HINT: Try to formulate the l2 distance using matrix multiplication    #
        #       and two broadcast sums.                                         #
        #########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        # In-place updates keep peak memory at one (num_test, num_train) array, and einsum
        # sums the squares of each row without building X_train * X_train (a second copy
        # of the training data: 123 MB for 5,000 CIFAR images).
        dists = X @ X_train.T
        dists *= -2.0
        dists += np.einsum("ij,ij->i", X, X)[:, None]
        dists += np.einsum("ij,ij->i", X_train, X_train)[None, :]
        np.maximum(dists, 0.0, out=dists)
        np.sqrt(dists, out=dists)

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dists

    def predict_labels(self, dists: np.ndarray, k: int = 1) -> np.ndarray:
        """
        Given a matrix of distances between test points and training points,
        predict a label for each test point.

        Inputs:
        - dists: A numpy array of shape (num_test, num_train) where dists[i, j]
          gives the distance betwen the ith test point and the jth training point.
        - k: The number of nearest neighbors that vote.

        Returns:
        - y: A numpy array of shape (num_test,) containing predicted labels for the
          test data, where y[i] is the predicted label for the test point X[i].
          A tie in the vote goes to the smaller label; a tie in distance goes to
          the training point that comes first.
        """
        self._check_k(k)
        dists = np.asarray(dists)
        if dists.ndim != 2 or dists.shape[1] != self.X_train.shape[0]:
            raise ValueError(f"dists must have shape (num_test, {self.X_train.shape[0]}) "
                             f"(one column per training point), got {dists.shape}")
        num_test = dists.shape[0]
        y_pred = np.zeros(num_test, dtype=self.y_train.dtype)
        #########################################################################
        # TODO:                                                                 #
        # Use the distance matrix to find the k nearest neighbors of the ith    #
        # testing point, and use self.y_train to find the labels of these       #
        # neighbors. Then find the most common label among these labels and     #
        # break ties by choosing the smaller label. (All test points at once.)  #
        #########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        # A stable sort makes the choice among equidistant neighbours deterministic.
        nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
        closest_y = self.y_train[nearest]                         # (num_test, k)
        # Count votes per (test point, label) with one bincount over offset labels.
        num_classes = int(self.y_train.max()) + 1
        offsets = np.arange(num_test)[:, None] * num_classes
        votes = np.bincount((offsets + closest_y).ravel(), minlength=num_test * num_classes)
        # argmax returns the first maximum, i.e. the smallest label among ties.
        y_pred = np.argmax(votes.reshape(num_test, num_classes), axis=1).astype(y_pred.dtype)

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return y_pred

    def _check_trained(self) -> None:
        if getattr(self, "X_train", None) is None:
            raise ValueError("KNearestNeighbor has no training data: call train(X, y) "
                             "before computing distances or predicting")

    def _check_k(self, k: int) -> None:
        self._check_trained()
        check_int(k, "k", maximum=self.X_train.shape[0],
                           maximum_name="the number of training points")

    def _float64_pair(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Test and training data as float64: uint8 pixels would wrap around when subtracted."""
        self._check_trained()
        X = check_data(X)
        if X.shape[1] != self.X_train.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features per row but the training data has "
                             f"{self.X_train.shape[1]}; reshape both the same way")
        return X.astype(np.float64, copy=False), self.X_train.astype(np.float64, copy=False)
